/**
 * A structural pre-check of BER/DER from outside (certificates, OCSP responses, time-stamp tokens; ITU-T X.690 §8.1)
 * before it reaches an ASN.1 library: one iterative pass over the tag-length-value structure that enforces the size,
 * the nesting depth and the element count, and that every length stays inside its container. Indefinite lengths
 * (§8.1.3.6, as some CMS producers write) are followed to their end-of-contents octets.
 *
 * Complexity: O(n) time in the input length (the cursor only moves forward; primitive contents are skipped by their
 * length), O(maxDepth) space. Returns a short reason (never quoting the input) or undefined.
 */
export interface DerLimits {
  maxBytes: number
  maxDepth: number
  maxElements: number
}

export const DEFAULT_DER_LIMITS: DerLimits = { maxBytes: 1024 * 1024, maxDepth: 32, maxElements: 100_000 }

export function derProblem(bytes: Uint8Array, limitsIn: Partial<DerLimits> = {}): string | undefined {
  const limits = { ...DEFAULT_DER_LIMITS, ...limitsIn }
  if (bytes.length > limits.maxBytes) return `larger than ${limits.maxBytes} bytes`
  if (bytes.length === 0) return 'empty'
  /** Open constructed elements: where each ends (Infinity: indefinite length) and the nearest definite end around it. */
  const frames: Array<{ end: number; limit: number }> = []
  let pos = 0
  let elements = 0
  let topLevel = 0
  for (;;) {
    while (frames.length > 0 && frames[frames.length - 1]!.end === pos) frames.pop()
    const limit = frames.length > 0 ? frames[frames.length - 1]!.limit : bytes.length
    if (pos === bytes.length) return frames.length === 0 ? undefined : 'an element with indefinite length is not terminated'
    if (pos >= limit) return 'an element overruns its container'
    if (frames.length === 0 && topLevel === 1) return 'data after the top-level element'
    const tag = bytes[pos++]!
    if ((tag & 0x1f) === 0x1f) {
      // §8.1.2.4: high tag numbers in base 128; four octets are plenty.
      let octets = 0
      let more = true
      while (more) {
        if (pos >= limit || ++octets > 4) return 'a tag is too long or truncated'
        more = (bytes[pos++]! & 0x80) !== 0
      }
    }
    if (pos >= limit) return 'a length is missing'
    const first = bytes[pos++]!
    let length: number
    if (first < 0x80) length = first
    else if (first === 0x80) {
      if ((tag & 0x20) === 0) return 'a primitive element has an indefinite length'
      length = -1
    } else {
      const count = first & 0x7f
      if (count > 4) return 'a length is too long'
      length = 0
      for (let i = 0; i < count; i++) {
        if (pos >= limit) return 'a length is truncated'
        length = length * 256 + bytes[pos++]!
      }
    }
    if (tag === 0 && length === 0) {
      // §8.1.5: end-of-contents closes the innermost indefinite-length element.
      const top = frames[frames.length - 1]
      if (top === undefined || top.end !== Infinity) return 'unexpected end-of-contents'
      frames.pop()
      continue
    }
    if (++elements > limits.maxElements) return `more than ${limits.maxElements} elements`
    if (frames.length === 0) topLevel++
    if (length >= 0 && pos + length > limit) return 'a length exceeds its container'
    if ((tag & 0x20) !== 0) {
      if (frames.length >= limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`
      frames.push(length < 0 ? { end: Infinity, limit } : { end: pos + length, limit: pos + length })
    } else {
      pos += length
    }
  }
}
