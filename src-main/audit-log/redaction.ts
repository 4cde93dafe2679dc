import { createHash } from 'node:crypto'

/**
 * What the audit log may keep of a change's input and of an object's state: never a secret (PINs, passwords,
 * passphrases, API key secrets, private keys), and large blobs (certificates, anchors, CSRs, uploads) only as their
 * SHA-256 and size, so an entry says which file it was without holding it.
 */
const SECRET_FIELD = /(pin|password|passphrase|secret|key)$|^token$/i
/** Fields named like secrets that are not (`publicKey` is public). */
const NOT_SECRET = new Set(['publicKey'])
export const REDACTED = '[redacted]'
const MAX_TEXT = 512

export function isSecretField(name: string): boolean {
  if (NOT_SECRET.has(name)) return false
  return SECRET_FIELD.test(name)
}

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[nested]'
  if (typeof value === 'string') {
    if (value.length <= MAX_TEXT) return value
    return { sha256: createHash('sha256').update(value, 'utf8').digest('hex'), length: value.length }
  }
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => redactSecrets(v, depth + 1))
  if (value instanceof Uint8Array) return { sha256: createHash('sha256').update(value).digest('hex'), length: value.length }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = isSecretField(k) ? REDACTED : redactSecrets(v, depth + 1)
    return out
  }
  return value
}
