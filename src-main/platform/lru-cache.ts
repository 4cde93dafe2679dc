import { hash } from 'node:crypto'

/**
 * A small bounded least-recently-used map, for memoizing pure, expensive work on the message path (parsing and
 * verifying the same certificates and OCSP responses message after message).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>()
  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key)
    if (value !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, value)
    }
    return value
  }

  set(key: K, value: V): void {
    this.entries.delete(key)
    this.entries.set(key, value)
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K)
  }

  getOrCompute(key: K, compute: () => V): V {
    const cached = this.get(key)
    if (cached !== undefined) return cached
    const value = compute()
    this.set(key, value)
    return value
  }

  get size(): number {
    return this.entries.size
  }
}

/** A cache key that commits to the exact bytes (SHA-256), so a hit always means the same input. */
export function bytesKey(...parts: Uint8Array[]): string {
  // SHA-256 over `length:bytes` of each part, laid out in one buffer and hashed one-shot (no Hash object).
  const prefixes = parts.map((part) => `${part.byteLength}:`)
  let size = 0
  for (let i = 0; i < parts.length; i++) size += prefixes[i]!.length + parts[i]!.byteLength
  const input = Buffer.allocUnsafe(size)
  let o = 0
  for (let i = 0; i < parts.length; i++) {
    o += input.write(prefixes[i]!, o, 'latin1')
    input.set(parts[i]!, o)
    o += parts[i]!.byteLength
  }
  return hash('sha256', input, 'base64')
}
