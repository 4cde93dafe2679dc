import { promisify } from 'node:util'
import { crc32, deflateRaw, deflateRawSync } from 'node:zlib'
import { SecurityServerError } from './errors'

/**
 * ZIP archives written without a stream per entry (APPNOTE.TXT 6.3.x; no ZIP64): the message log's evidence
 * containers and archives, thousands of small entries a run. The layout is yazl's byte for byte — the UTF-8 name flag,
 * version 2.0 to extract, Unix version made by, the mode in the external attributes, DOS time in local time — in its two
 * forms: sizes and CRC in the local header (an entry given whole), or after the data in a signed data descriptor
 * with an Info-ZIP extended timestamp in the central directory (an entry written as it comes, as Java's
 * `ZipOutputStream` writes X-Road's archives). An entry of up to {@link SYNC_DEFLATE_BYTES} is deflated in place —
 * through zlib's stream machinery each of a container's eleven small entries cost more CPU than its compression, and a
 * trip through libuv's pool — a larger one in the pool, where it does not hold the event loop.
 */

/** Entries up to this size are deflated synchronously: about 3 ms of the event loop at most (incompressible data). */
export const SYNC_DEFLATE_BYTES = 64 * 1024
/** The most a ZIP without ZIP64 records can hold: sizes and offsets below 0xffffffff, fewer than 0xffff entries. */
export const ZIP_MAX_OFFSET = 0xfffffffe
export const ZIP_MAX_ENTRIES = 0xfffe

const deflateRawInPool = promisify(deflateRaw)

/**
 * DEFLATE (RFC 1951, level 6 like yazl's and Java's default) of `data`: in place when small, else in libuv's pool. In
 * place, the output buffer is sized to the input (zlib's 16 KiB chunk by default: each small entry's few hundred bytes
 * kept a 16 KiB allocation alive, 50 MB of garbage between collections); output that outgrows it still comes whole.
 */
export function deflateEntry(data: Uint8Array): Buffer | Promise<Buffer> {
  return data.byteLength <= SYNC_DEFLATE_BYTES ? deflateRawSync(data, { chunkSize: Math.max(64, data.byteLength + 64) }) : deflateRawInPool(data)
}

export interface ZipEntryOptions {
  /** Modification time, written as DOS date and time in local time (and as Unix seconds with `extendedTimestamp`). */
  mtime: Date
  /** Unix mode for the external attributes. */
  mode: number
  /** Sizes and CRC after the data (general-purpose bit 3) rather than in the local header. */
  dataDescriptor: boolean
  /** An Info-ZIP extended timestamp (0x5455) in the central directory record. */
  extendedTimestamp: boolean
}

interface CentralEntry {
  /**
   * Kept as a string: a short Buffer made from a string is a slice of a shared 8 KiB pool, and keeping it keeps the
   * whole pool alive — 10 KB of each archived record's garbage until the archive closed.
   */
  name: string
  nameLength: number
  options: ZipEntryOptions
  dos: { time: number; date: number }
  crc: number
  compressedSize: number
  size: number
  offset: number
}

const UTF8_NAME = 1 << 11
const DATA_DESCRIPTOR = 1 << 3
const VERSION_NEEDED = 20
/** Unix (3), APPNOTE 6.3. */
const VERSION_MADE_BY = (3 << 8) | 63
const DEFLATED = 8

const MIN_DOS_DATE = new Date(1980, 0, 1)
const MAX_DOS_DATE = new Date(2107, 11, 31, 23, 59, 58)

/** MS-DOS date and time (APPNOTE 4.4.6), in local time, clamped to 1980–2107, seconds halved. */
export function dosDateTime(mtime: Date): { time: number; date: number } {
  const t = mtime < MIN_DOS_DATE ? MIN_DOS_DATE : mtime > MAX_DOS_DATE ? MAX_DOS_DATE : mtime
  return {
    date: (t.getDate() & 0x1f) | (((t.getMonth() + 1) & 0xf) << 5) | (((t.getFullYear() - 1980) & 0x7f) << 9),
    time: Math.floor(t.getSeconds() / 2) | ((t.getMinutes() & 0x3f) << 5) | ((t.getHours() & 0x1f) << 11),
  }
}

/**
 * Lays out one ZIP: `entry` gives the bytes of a deflated entry (local header, data, data descriptor) at the current
 * offset, `end` the central directory and its end record. The caller writes them in order, to memory or a file.
 */
export class ZipLayout {
  private readonly entries: CentralEntry[] = []
  /** Bytes laid out so far: the next local header's offset. */
  offset = 0

  /** The pieces of an entry whose uncompressed `size` and `crc` are given and `compressed` is its raw DEFLATE. */
  entry(name: string, compressed: Buffer, crc: number, size: number, options: ZipEntryOptions): Buffer[] {
    const nameLength = Buffer.byteLength(name, 'utf8')
    if (this.entries.length >= ZIP_MAX_ENTRIES || this.offset > ZIP_MAX_OFFSET || size > ZIP_MAX_OFFSET || compressed.length > ZIP_MAX_OFFSET || nameLength > 0xffff) {
      throw new SecurityServerError('internal_error', 'A ZIP this large needs ZIP64 records, which this writer does not write')
    }
    const entry: CentralEntry = { name, nameLength, options, dos: dosDateTime(options.mtime), crc, compressedSize: compressed.length, size, offset: this.offset }
    this.entries.push(entry)
    const header = Buffer.alloc(30 + nameLength)
    header.writeUInt32LE(0x04034b50, 0)
    header.writeUInt16LE(VERSION_NEEDED, 4)
    header.writeUInt16LE(options.dataDescriptor ? UTF8_NAME | DATA_DESCRIPTOR : UTF8_NAME, 6)
    header.writeUInt16LE(DEFLATED, 8)
    header.writeUInt16LE(entry.dos.time, 10)
    header.writeUInt16LE(entry.dos.date, 12)
    if (!options.dataDescriptor) {
      header.writeUInt32LE(crc, 14)
      header.writeUInt32LE(compressed.length, 18)
      header.writeUInt32LE(size, 22)
    }
    header.writeUInt16LE(nameLength, 26)
    header.write(name, 30, 'utf8')
    const pieces = [header, compressed]
    if (options.dataDescriptor) {
      const descriptor = Buffer.alloc(16)
      descriptor.writeUInt32LE(0x08074b50, 0)
      descriptor.writeUInt32LE(crc, 4)
      descriptor.writeUInt32LE(compressed.length, 8)
      descriptor.writeUInt32LE(size, 12)
      pieces.push(descriptor)
    }
    for (const p of pieces) this.offset += p.length
    return pieces
  }

  /** Deflates `data` (see {@link deflateEntry}) and lays it out as the next entry. */
  async deflated(name: string, data: Uint8Array, options: ZipEntryOptions): Promise<Buffer[]> {
    return this.entry(name, await deflateEntry(data), crc32(data), data.byteLength, options)
  }

  /** The central directory (APPNOTE 4.3.12) and its end record with `comment`. */
  end(comment = ''): Buffer {
    const commentBytes = Buffer.from(comment, 'utf8')
    if (this.offset > ZIP_MAX_OFFSET) throw new SecurityServerError('internal_error', 'A ZIP this large needs ZIP64 records, which this writer does not write')
    const records: Buffer[] = []
    let size = 0
    for (const e of this.entries) {
      const record = Buffer.alloc(46 + e.nameLength + (e.options.extendedTimestamp ? 9 : 0))
      record.writeUInt32LE(0x02014b50, 0)
      record.writeUInt16LE(VERSION_MADE_BY, 4)
      record.writeUInt16LE(VERSION_NEEDED, 6)
      record.writeUInt16LE(e.options.dataDescriptor ? UTF8_NAME | DATA_DESCRIPTOR : UTF8_NAME, 8)
      record.writeUInt16LE(DEFLATED, 10)
      record.writeUInt16LE(e.dos.time, 12)
      record.writeUInt16LE(e.dos.date, 14)
      record.writeUInt32LE(e.crc, 16)
      record.writeUInt32LE(e.compressedSize, 20)
      record.writeUInt32LE(e.size, 24)
      record.writeUInt16LE(e.nameLength, 28)
      record.writeUInt16LE(e.options.extendedTimestamp ? 9 : 0, 30)
      record.writeUInt32LE(((e.options.mode & 0xffff) << 16) >>> 0, 38)
      record.writeUInt32LE(e.offset, 42)
      record.write(e.name, 46, 'utf8')
      if (e.options.extendedTimestamp) {
        // Info-ZIP "UT": flags mtime and atime (as Info-ZIP writes it; the central copy carries the mtime only).
        const at = 46 + e.nameLength
        record.writeUInt16LE(0x5455, at)
        record.writeUInt16LE(5, at + 2)
        record.writeUInt8(3, at + 4)
        record.writeInt32LE(Math.min(0x7fffffff, Math.max(-0x80000000, Math.floor(e.options.mtime.getTime() / 1000))), at + 5)
      }
      records.push(record)
      size += record.length
    }
    const eocd = Buffer.alloc(22 + commentBytes.length)
    eocd.writeUInt32LE(0x06054b50, 0)
    eocd.writeUInt16LE(this.entries.length, 8)
    eocd.writeUInt16LE(this.entries.length, 10)
    eocd.writeUInt32LE(size, 12)
    eocd.writeUInt32LE(this.offset, 16)
    eocd.writeUInt16LE(commentBytes.length, 20)
    commentBytes.copy(eocd, 22)
    records.push(eocd)
    this.offset += size + eocd.length
    return Buffer.concat(records, size + eocd.length)
  }
}
