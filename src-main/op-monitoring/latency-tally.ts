import type { LatencyPercentiles } from '@shared/admin-api/operations-api'

/**
 * Latencies counted rather than kept, for the operations screen's percentiles (nearest rank): each latency goes into a
 * bucket — its own millisecond below `EXACT_LATENCY_MS`, a bucket 1 % wide above — so a tally's size grows with the
 * distinct latencies seen, not with the records. The per-minute roll-ups store a tally's buckets (`encode`), and a
 * summary adds them back (`addEncoded`): the same buckets and counts, so the same percentiles as from the records.
 */

/** Latencies (ms) below this are counted one by one; above it, in buckets 1 % wide. */
export const EXACT_LATENCY_MS = 1024
const LOG_STEP = Math.log(1.01)

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number
}

/** Exact nearest-rank percentiles of the latencies themselves. */
export function latencyOf(values: number[]): LatencyPercentiles {
  const sorted = Float64Array.from(values).sort()
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p95Ms: percentile(sorted, 0.95),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length === 0 ? null : (sorted[sorted.length - 1] as number),
  }
}

function latencyBucket(ms: number): number {
  return ms < EXACT_LATENCY_MS ? ms : EXACT_LATENCY_MS + Math.floor(Math.log(ms / EXACT_LATENCY_MS) / LOG_STEP)
}

/** The smallest latency of a bucket (ms). */
function bucketFloor(bucket: number): number {
  return bucket < EXACT_LATENCY_MS ? bucket : Math.ceil(EXACT_LATENCY_MS * Math.exp((bucket - EXACT_LATENCY_MS) * LOG_STEP))
}

/** Bytes of one bucket in an encoded tally: the bucket and its count, unsigned 32-bit little-endian each. */
const ENCODED_BUCKET_BYTES = 8

export class LatencyTally {
  private readonly counts = new Map<number, number>()
  private count = 0
  private max = 0

  add(ms: number): void {
    const bucket = latencyBucket(ms)
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1)
    this.count++
    if (ms > this.max) this.max = ms
  }

  get size(): number {
    return this.count
  }

  get maxMs(): number {
    return this.max
  }

  /** The buckets and their counts, in bucket order (a roll-up row's `latencies`). */
  encode(): Buffer {
    const buckets = [...this.counts.keys()].sort((a, b) => a - b)
    const out = Buffer.alloc(buckets.length * ENCODED_BUCKET_BYTES)
    buckets.forEach((bucket, i) => {
      out.writeUInt32LE(bucket, i * ENCODED_BUCKET_BYTES)
      out.writeUInt32LE(this.counts.get(bucket) as number, i * ENCODED_BUCKET_BYTES + 4)
    })
    return out
  }

  /** Adds a tally `encode` gave, whose largest latency was `maxMs`. */
  addEncoded(encoded: Uint8Array, maxMs: number): void {
    const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)
    for (let at = 0; at + ENCODED_BUCKET_BYTES <= view.length; at += ENCODED_BUCKET_BYTES) {
      const bucket = view.readUInt32LE(at)
      const n = view.readUInt32LE(at + 4)
      this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + n)
      this.count += n
    }
    if (maxMs > this.max) this.max = maxMs
  }

  /** Nearest-rank percentiles, as `latencyOf` gives them over the latencies themselves (exact below `EXACT_LATENCY_MS`). */
  percentiles(): LatencyPercentiles {
    if (this.count === 0) return latencyOf([])
    const buckets = [...this.counts.keys()].sort((a, b) => a - b)
    const at = (p: number): number => {
      const rank = Math.min(this.count, Math.max(1, Math.ceil(p * this.count)))
      let seen = 0
      for (const bucket of buckets) {
        seen += this.counts.get(bucket) as number
        if (seen >= rank) return Math.min(this.max, bucketFloor(bucket))
      }
      return this.max
    }
    return { count: this.count, p50Ms: at(0.5), p90Ms: at(0.9), p95Ms: at(0.95), p99Ms: at(0.99), maxMs: this.max }
  }
}
