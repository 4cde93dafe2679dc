import { clientError } from '../../platform'
import type { MultipartLimits } from './multipart'

/**
 * A streaming multipart/mixed reader (RFC 2046 §5.1) for the SS↔SS transport, with the rules of `parseMultipart`
 * (a delimiter starts a line and is followed by CR, LF, `-`, space, tab or the end — a line starting with it otherwise
 * is refused; CRLF and bare LF; empty parts are parts; part content is the raw bytes between the header block and the
 * line end before the next delimiter) but reading as the bytes arrive, so that a large part goes to its sink (a spool
 * file) instead of memory.
 *
 * Bounds: linear time — each input byte is searched at most twice (the tail kept back for a delimiter that may
 * straddle two chunks is at most the delimiter's length + 3 bytes, ≤ 75), header blocks are scanned once from where
 * the last scan stopped; memory outside the sinks is at most one chunk plus `maxHeaderBytes`; at most `maxParts`
 * parts and `maxBytes` bytes in all (preamble and epilogue included). Error messages are fixed texts.
 */
export interface PartSink {
  write(chunk: Buffer): void | Promise<void>
  end(): void | Promise<void>
}

export interface PartHandler {
  /** A part's header block was read: where its content goes (may throw to refuse the part). */
  startPart(headers: Array<[string, string]>, contentType: string): PartSink
}

const LF = 0x0a
const CR = 0x0d
const EMPTY = Buffer.alloc(0)
const CONTENT_TYPE = 'content-type'

type State = 'preamble' | 'delimiter' | 'headers' | 'content' | 'epilogue'

export class MultipartStreamReader {
  private readonly delimiter: Buffer
  private state: State = 'preamble'
  /**
   * The unread bytes are `buffer[start…]`: reading moves `start` on instead of taking a subarray of what is left
   * (issue 15 §5: several per part). Below, "offset" means an offset from `start`.
   */
  private buffer: Buffer = EMPTY
  private start = 0
  /** The byte just before the unread bytes (LF at the start of content: the header block's last line end). */
  private previous = -1
  /** Bytes consumed before the unread bytes (the first delimiter may sit at offset 0 without a line end before it). */
  private consumed = 0
  private total = 0
  private parts = 0
  private headerScanFrom = 0
  private sink: PartSink | undefined

  constructor(boundary: string, private readonly handler: PartHandler, private readonly limits: MultipartLimits) {
    this.delimiter = Buffer.from(`--${boundary}`, 'latin1')
  }

  /** Feeds the next bytes; the returned promise settles once every sink has taken what this chunk gave it. */
  async push(chunk: Buffer): Promise<void> {
    this.total += chunk.length
    if (this.total > this.limits.maxBytes) throw clientError('body_too_large', `Message is larger than ${this.limits.maxBytes} bytes`)
    if (this.state === 'epilogue') return
    this.buffer = this.start === this.buffer.length ? chunk : Buffer.concat([this.buffer.subarray(this.start), chunk])
    this.start = 0
    await this.run(false)
  }

  /** The input ended: a message without its closing delimiter is refused. */
  async finish(): Promise<void> {
    if (this.state !== 'epilogue') await this.run(true)
    if (this.state === 'preamble') throw mimeError('no opening boundary')
    if (this.state !== 'epilogue') throw mimeError('no closing boundary')
  }

  private async run(atEnd: boolean): Promise<void> {
    for (;;) {
      const progressed =
        this.state === 'preamble' ? this.preamble(atEnd)
          : this.state === 'delimiter' ? this.afterDelimiter(atEnd)
            : this.state === 'headers' ? this.headers(atEnd)
              : this.state === 'content' ? await this.content(atEnd)
                : false
      if (!progressed || this.state === 'epilogue') return
    }
  }

  /**
   * Index of the next delimiter line, -1 if none, -2 if undecidable yet. Only line starts are candidates; a line that
   * starts with the delimiter but goes on otherwise is refused, as `parseMultipart` refuses it (RFC 2046 §5.1.1).
   */
  private findDelimiter(from: number, atEnd: boolean, first: boolean): number {
    const { buffer, delimiter, start } = this
    let at = buffer.indexOf(delimiter, start + from)
    while (at >= 0) {
      const before = at === start ? this.previous : (buffer[at - 1] as number)
      const lineStart = before === LF || (first && at === start && this.consumed === 0)
      if (lineStart) {
        const after = buffer[at + delimiter.length]
        if (after === undefined) return atEnd ? at - start : -2
        if (after === CR || after === LF || after === 0x2d || after === 0x20 || after === 0x09) return at - start
        throw mimeError('a line starts with the boundary delimiter but is not one')
      }
      at = buffer.indexOf(delimiter, at + 1)
    }
    return -1
  }

  /** How many bytes are unread. */
  private get unread(): number {
    return this.buffer.length - this.start
  }

  private consume(n: number): void {
    if (n <= 0) return
    this.previous = this.buffer[this.start + n - 1] as number
    this.consumed += n
    this.start += n
  }

  /** Nothing is left to read (the closing delimiter was read). */
  private clear(): void {
    this.buffer = EMPTY
    this.start = 0
  }

  /** Keeps only the tail a delimiter could still start in. */
  private keepTail(): void {
    this.consume(this.unread - (this.delimiter.length + 2))
  }

  private preamble(atEnd: boolean): boolean {
    const at = this.findDelimiter(0, atEnd, true)
    if (at === -1) {
      this.keepTail()
      return false
    }
    if (at === -2) return false
    this.consume(at + this.delimiter.length)
    this.state = 'delimiter'
    return true
  }

  private afterDelimiter(atEnd: boolean): boolean {
    const { buffer, start } = this
    const length = this.unread
    if (length < 2 && !atEnd) return false
    if (buffer[start] === 0x2d && buffer[start + 1] === 0x2d) {
      this.clear()
      this.state = 'epilogue'
      return true
    }
    let at = 0
    while (at < length && at <= this.limits.maxHeaderBytes && (buffer[start + at] === 0x20 || buffer[start + at] === 0x09)) at++
    if (at >= length || (buffer[start + at] === CR && at + 1 >= length)) {
      if (!atEnd && at <= this.limits.maxHeaderBytes) return false
      // A delimiter that ends the input closes it too, as in `parseMultipart` (mime4j reads a missing close-delimiter as the end).
      if (at >= length && this.parts > 0) {
        this.clear()
        this.state = 'epilogue'
        return true
      }
      throw mimeError('boundary line not terminated')
    }
    if (buffer[start + at] === CR && buffer[start + at + 1] === LF) at += 2
    else if (buffer[start + at] === LF) at += 1
    else throw mimeError('boundary line not terminated')
    this.consume(at)
    this.state = 'headers'
    this.headerScanFrom = 0
    return true
  }

  private headers(atEnd: boolean): boolean {
    const { buffer, start: from } = this
    const length = this.unread
    const max = this.limits.maxHeaderBytes
    let start = -1
    let end = -1
    if (length >= 1 && buffer[from] === LF) {
      start = 0
      end = 1
    } else if (length >= 2 && buffer[from] === CR && buffer[from + 1] === LF) {
      start = 0
      end = 2
    } else if (length >= 2 || atEnd) {
      const limit = Math.min(length, max)
      for (let i = this.headerScanFrom; i < limit; i++) {
        if (buffer[from + i] !== LF) continue
        if (i + 2 >= length && !atEnd) {
          // The blank line may be completed by the next chunk: scan again from here.
          this.headerScanFrom = i
          return this.needMore(length, max)
        }
        if (buffer[from + i + 1] === LF) {
          start = i + 1
          end = i + 2
          break
        }
        if (buffer[from + i + 1] === CR && buffer[from + i + 2] === LF) {
          start = i + 1
          end = i + 3
          break
        }
      }
      if (start < 0) this.headerScanFrom = Math.max(this.headerScanFrom, limit)
    }
    if (start < 0) {
      if (atEnd) throw mimeError(`part headers missing or longer than ${max} bytes`)
      return this.needMore(length, max)
    }
    const headers = parseHeaders(buffer.toString('latin1', from, from + start))
    let contentType = 'text/plain'
    for (const [name, value] of headers) {
      if (name.length === CONTENT_TYPE.length && name.toLowerCase() === CONTENT_TYPE) {
        contentType = value
        break
      }
    }
    this.parts++
    if (this.parts > this.limits.maxParts) throw clientError('invalid_message', `Message has more than ${this.limits.maxParts} parts`)
    this.sink = this.handler.startPart(headers, contentType)
    this.consume(end)
    this.state = 'content'
    return true
  }

  private needMore(have: number, max: number): boolean {
    if (have >= max + 3) throw mimeError(`part headers missing or longer than ${max} bytes`)
    return false
  }

  private async content(atEnd: boolean): Promise<boolean> {
    const sink = this.sink as PartSink
    const at = this.findDelimiter(0, atEnd, false)
    const { buffer, start } = this
    if (at < 0) {
      if (atEnd) throw mimeError('no closing boundary')
      // Everything but the tail a delimiter (and the line end before it) could start in is content.
      const safe = this.unread - (this.delimiter.length + 2)
      if (safe > 0) {
        const data = buffer.subarray(start, start + safe)
        this.consume(safe)
        await sink.write(data)
      }
      return false
    }
    let end = at
    if (end > 0 && buffer[start + end - 1] === LF) {
      end--
      if (end > 0 && buffer[start + end - 1] === CR) end--
    }
    if (end > 0) await sink.write(buffer.subarray(start, start + end))
    await sink.end()
    this.sink = undefined
    this.consume(at + this.delimiter.length)
    this.state = 'delimiter'
    return true
  }
}

/**
 * Reads a whole multipart stream into the handler's sinks; `received` learns each chunk's length as it arrives, before
 * the reader takes it (a callback, not another async iterator around the source: issue 15 §5).
 */
export async function readMultipartStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, boundary: string, handler: PartHandler, limits: MultipartLimits,
  received?: (bytes: number) => void,
): Promise<void> {
  const reader = new MultipartStreamReader(boundary, handler, limits)
  for await (const chunk of source) {
    received?.(chunk.byteLength)
    await reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  }
  await reader.finish()
}

/**
 * The header lines of a block (lines end in LF or CRLF; empty lines are skipped): `name: value`, both trimmed; a line
 * without a name before its colon, or starting with white space (a folded line), is refused. One pass over the text,
 * no array of lines (issue 15 §5: every part of every message).
 */
function parseHeaders(text: string): Array<[string, string]> {
  const headers: Array<[string, string]> = []
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const lineEnd = end < text.length && end > start && text.charCodeAt(end - 1) === CR ? end - 1 : end
    if (lineEnd > start) {
      const colon = text.indexOf(':', start)
      if (colon <= start || colon >= lineEnd || isWhiteSpace(text.charCodeAt(start))) throw mimeError('malformed part header')
      headers.push([text.slice(start, colon).trim(), text.slice(colon + 1, lineEnd).trim()])
    }
    start = end + 1
  }
  return headers
}

/** JavaScript's `\s` among the characters a latin1 header block can hold: tab, LF, VT, FF, CR, space, no-break space. */
function isWhiteSpace(code: number): boolean {
  return (code >= 0x09 && code <= 0x0d) || code === 0x20 || code === 0xa0
}

function mimeError(reason: string) {
  return clientError('mime_parsing_failed', `Failed to parse MIME message: ${reason}`)
}
