import { clientError } from './errors'
import type { ErrorCode } from '@shared/error-codes'

/**
 * JSON from outside (admin API bodies, configuration metadata, uploaded transcripts): size and nesting depth are
 * checked in one pass over the text before `JSON.parse` (RFC 8259 §9 lets a parser limit both), so nothing downstream
 * (validation, audit serialization, logging) ever recurses over an unbounded structure.
 *
 * Complexity: O(n) time for the scan (strings are skipped by their escapes, never re-scanned), then V8's linear
 * `JSON.parse`; O(1) extra space. Refusals quote none of the input.
 */
export interface JsonLimits {
  /** Largest text in UTF-16 code units (≈ bytes for the ASCII JSON this server receives). */
  maxLength: number
  /** Deepest nesting of arrays and objects. */
  maxDepth: number
}

export const DEFAULT_JSON_LIMITS: JsonLimits = { maxLength: 16 * 1024 * 1024, maxDepth: 32 }

export function parseJson(text: string, limitsIn: Partial<JsonLimits> = {}, code: ErrorCode = 'bad_request', what = 'The body'): unknown {
  const limits = { ...DEFAULT_JSON_LIMITS, ...limitsIn }
  if (text.length > limits.maxLength) throw clientError(code, `${what} is longer than ${limits.maxLength} characters`)
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // Skip the string: a backslash escapes the next character.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i)
        if (s === 0x5c) i++
        else if (s === 0x22) break
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limits.maxDepth) throw clientError(code, `${what} is nested deeper than ${limits.maxDepth} levels`)
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  try {
    return JSON.parse(text)
  } catch {
    throw clientError(code, `${what} is not valid JSON`)
  }
}
