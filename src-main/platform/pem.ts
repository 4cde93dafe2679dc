/**
 * PEM from outside (RFC 7468: uploaded certificates and chains, certificates in global configuration): the blocks of a
 * text found by a forward scan instead of a lazy regular expression (which is quadratic on many BEGIN lines without
 * an END line).
 *
 * Complexity: O(n) time. Each BEGIN line is matched with the first END line after it, and the scan continues after
 * that END line; when no END line follows, no later block can be complete and the scan stops. At most `maxBlocks`
 * blocks are returned; a refusal quotes at most 40 characters of a label.
 */
export interface PemBlock {
  /** The label, e.g. `CERTIFICATE`. */
  label: string
  /** The decoded contents. */
  der: Buffer
  /** The block's text from its BEGIN line to the end of its END line. */
  text: string
}

export class PemError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PemError'
  }
}

const BEGIN = '-----BEGIN '
const END = '-----END '
const DASHES = '-----'
/** RFC 7468 §3 labels are printable ASCII; real ones are short. */
const LABEL = /^[\x21-\x2c\x2e-\x7e](?:[\x21-\x2c\x2e-\x7e]|[ -](?=[\x21-\x2c\x2e-\x7e])){0,63}$/
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/

function shownLabel(label: string): string {
  return JSON.stringify(label.length > 40 ? `${label.slice(0, 40)}…` : label)
}

/** Every PEM block of `text` whose label is one of `labels` (all labels when omitted), in order. */
export function pemBlocks(text: string, options: { labels?: readonly string[]; maxBlocks?: number } = {}): PemBlock[] {
  const maxBlocks = options.maxBlocks ?? 64
  const blocks: PemBlock[] = []
  let pos = 0
  for (;;) {
    const begin = text.indexOf(BEGIN, pos)
    if (begin < 0) return blocks
    const labelStart = begin + BEGIN.length
    const labelEnd = text.indexOf(DASHES, labelStart)
    if (labelEnd < 0) return blocks
    const label = text.slice(labelStart, Math.min(labelEnd, labelStart + 65))
    if (labelEnd - labelStart > 64 || !LABEL.test(label)) throw new PemError(`PEM BEGIN line has an invalid label ${shownLabel(label)}`)
    const bodyStart = labelEnd + DASHES.length
    const end = text.indexOf(END, bodyStart)
    if (end < 0) return blocks
    const endLabelStart = end + END.length
    const trailer = `${label}${DASHES}`
    if (!text.startsWith(trailer, endLabelStart)) throw new PemError(`PEM block ${shownLabel(label)} ends with another label`)
    const body = text.slice(bodyStart, end)
    if (!BASE64_BODY.test(body)) throw new PemError(`PEM block ${shownLabel(label)} is not base64`)
    pos = endLabelStart + trailer.length
    if (options.labels === undefined || options.labels.includes(label)) {
      if (blocks.length >= maxBlocks) throw new PemError(`More than ${maxBlocks} PEM blocks`)
      blocks.push({ label, der: Buffer.from(body.replace(/\s+/g, ''), 'base64'), text: text.slice(begin, pos) })
    }
  }
}

export const CERTIFICATE_LABELS = ['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE'] as const
