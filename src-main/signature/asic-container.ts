import { crc32, deflateRawSync } from 'node:zlib'
import * as yauzl from 'yauzl'
import { SecurityServerError, ZipLayout, type ZipEntryOptions } from '../platform'
import { parseSignature } from './signature-document'
import { digest, DIGEST_URIS, type DigestAlgorithm } from './xml-support'

/**
 * ASiC-E evidence containers of the message log (X-Road `AsicContainer`, `AsicHelper`; xroad-protocols.md §6.3):
 * writing with X-Road's entry order, deflated entries (mimetype too), ZIP comment and manifests, and reading with
 * structural checks and size limits.
 */

export const ASIC_MIME_TYPE = 'application/vnd.etsi.asic-e+zip'
export const ENTRY_MIMETYPE = 'mimetype'
export const ENTRY_MESSAGE = 'message.xml'
export const ENTRY_SIGNATURE = 'META-INF/signatures.xml'
export const ENTRY_SIG_HASH_CHAIN_RESULT = 'sig-hashchainresult.xml'
export const ENTRY_SIG_HASH_CHAIN = 'sig-hashchain.xml'
export const ENTRY_TS_HASH_CHAIN_RESULT = 'ts-hashchainresult.xml'
export const ENTRY_TS_HASH_CHAIN = 'ts-hashchain.xml'
export const ENTRY_MANIFEST = 'META-INF/manifest.xml'
export const ENTRY_ASIC_MANIFEST = 'META-INF/ASiCManifest.xml'
export const ENTRY_TIMESTAMP = 'META-INF/timestamp.tst'

/** Everything one message-log record puts into its container. */
export interface AsicRecord {
  /** SOAP message or REST header part (`message.xml`). */
  message: Uint8Array | string
  /** The signature XML (with the embedded SignatureTimeStamp for a single time-stamp). */
  signatureXml: Uint8Array | string
  /** Batch signature: hash-chain result and this message's hash chain. */
  sigHashChainResult?: Uint8Array | string
  sigHashChain?: Uint8Array | string
  /** Batch time-stamp: ts hash-chain result, this record's ts hash chain and the DER token. */
  tsHashChainResult?: Uint8Array | string
  tsHashChain?: Uint8Array | string
  timestampToken?: Uint8Array
  /** SOAP attachments or the REST body, written as `attachment1..N`. */
  attachments?: Uint8Array[]
  /** Entry modification time (defaults to now). */
  time?: Date
  /** Digest for the ASiCManifest reference (X-Road default SHA-512). */
  digestAlgorithm?: DigestAlgorithm
}

export interface AsicContents {
  entries: Map<string, Buffer>
  /** Entry names in archive order. */
  order: string[]
  comment: string
  message: Buffer
  signatureXml: Buffer
  sigHashChainResult?: Buffer
  sigHashChain?: Buffer
  tsHashChainResult?: Buffer
  tsHashChain?: Buffer
  /** The `META-INF/timestamp.tst` token, when the container holds one. */
  timestampToken?: Buffer
  /**
   * The time-stamp the container is verified with (X-Road `AsicContainer.get(ENTRY_TIMESTAMP)`): `timestamp.tst` when
   * present — then a single time-stamp over the SignatureValue unless the time-stamp hash chain is there too — else
   * the token embedded in the signature.
   */
  timestamp: Buffer
  asicManifest?: Buffer
  attachments: Buffer[]
}

/** The entry's bytes: a string encoded, bytes viewed where they are (a 10 MB body is not copied to be deflated). */
const bytes = (v: Uint8Array | string): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength))

/** An entry deflated once: the same bytes in every container (the mimetype, the manifest of each container shape). */
interface RepeatedEntry {
  compressed: Buffer
  crc: number
  size: number
}

const REPEATED_ENTRIES_KEPT = 32
/** A manifest longer than this (hundreds of attachments) is deflated as any other entry. */
const REPEATED_ENTRY_CHARS = 4096
const repeatedEntries = new Map<string, RepeatedEntry>()

function repeatedEntry(text: string): RepeatedEntry {
  let entry = repeatedEntries.get(text)
  if (entry === undefined) {
    const data = Buffer.from(text, 'utf8')
    if (repeatedEntries.size >= REPEATED_ENTRIES_KEPT) repeatedEntries.clear()
    entry = { compressed: deflateRawSync(data), crc: crc32(data), size: data.length }
    repeatedEntries.set(text, entry)
  }
  return entry
}

function manifestXml(entries: Array<{ path: string; type: string }>): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">\n' +
    `    <manifest:file-entry manifest:media-type="${ASIC_MIME_TYPE}" manifest:full-path="/"/>\n` +
    entries.map((e) => `    <manifest:file-entry manifest:media-type="${e.type}" manifest:full-path="${e.path}"/>\n`).join('') +
    '</manifest:manifest>\n'
}

function asicManifestXml(tsHashChainResult: Buffer, algorithm: DigestAlgorithm): string {
  return '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<asic:ASiCManifest xmlns:asic="http://uri.etsi.org/2918/v1.2.1#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">\n' +
    `<asic:SigReference URI="${ENTRY_TIMESTAMP}" MimeType="vnd.etsi.timestamp-token"/>\n` +
    `<asic:DataObjectReference URI="${ENTRY_TS_HASH_CHAIN_RESULT}" MimeType="text/xml">\n` +
    `<ds:DigestMethod Algorithm="${DIGEST_URIS[algorithm]}" />\n` +
    `<ds:DigestValue>${digest(algorithm, tsHashChainResult).toString('base64')}</ds:DigestValue>\n` +
    '</asic:DataObjectReference>\n</asic:ASiCManifest>'
}

/** A container entry's Unix mode (rw-rw-r--, a regular file). */
const CONTAINER_ENTRY_MODE = 0o100664

/**
 * Writes the container with X-Road's exact entry order, all entries deflated (sizes in the local headers, DOS times
 * only), and the mimetype ZIP comment.
 */
export async function writeAsicContainer(record: AsicRecord): Promise<Buffer> {
  const batchTs = record.tsHashChainResult !== undefined || record.tsHashChain !== undefined || record.timestampToken !== undefined
  if (batchTs && (record.tsHashChainResult === undefined || record.tsHashChain === undefined || record.timestampToken === undefined)) {
    throw new SecurityServerError('internal_error', 'A batch time-stamp needs the ts hash-chain result, the ts hash chain and the token')
  }
  if ((record.sigHashChainResult === undefined) !== (record.sigHashChain === undefined)) {
    throw new SecurityServerError('internal_error', 'A batch signature needs both the hash-chain result and the hash chain')
  }
  const entries: Array<[string, Buffer | RepeatedEntry]> = [
    [ENTRY_MIMETYPE, repeatedEntry(ASIC_MIME_TYPE)],
    [ENTRY_MESSAGE, bytes(record.message)],
    [ENTRY_SIGNATURE, bytes(record.signatureXml)],
  ]
  const listed: Array<{ path: string; type: string }> = [{ path: ENTRY_MESSAGE, type: 'text/xml' }]
  if (record.sigHashChainResult !== undefined && record.sigHashChain !== undefined) {
    entries.push([ENTRY_SIG_HASH_CHAIN_RESULT, bytes(record.sigHashChainResult)], [ENTRY_SIG_HASH_CHAIN, bytes(record.sigHashChain)])
    listed.push({ path: ENTRY_SIG_HASH_CHAIN_RESULT, type: 'text/xml' }, { path: ENTRY_SIG_HASH_CHAIN, type: 'text/xml' })
  }
  if (batchTs) {
    entries.push([ENTRY_TS_HASH_CHAIN_RESULT, bytes(record.tsHashChainResult!)], [ENTRY_TS_HASH_CHAIN, bytes(record.tsHashChain!)])
    listed.push({ path: ENTRY_TS_HASH_CHAIN_RESULT, type: 'text/xml' }, { path: ENTRY_TS_HASH_CHAIN, type: 'text/xml' })
  }
  const attachments = record.attachments ?? []
  attachments.forEach((_, i) => listed.push({ path: `attachment${i + 1}`, type: 'application/octet-stream' }))
  const manifest = manifestXml(listed)
  entries.push([ENTRY_MANIFEST, manifest.length <= REPEATED_ENTRY_CHARS ? repeatedEntry(manifest) : Buffer.from(manifest, 'utf8')])
  if (batchTs) {
    entries.push([ENTRY_ASIC_MANIFEST, Buffer.from(asicManifestXml(bytes(record.tsHashChainResult!), record.digestAlgorithm ?? 'SHA-512'), 'utf8')])
    entries.push([ENTRY_TIMESTAMP, bytes(record.timestampToken!)])
  }
  attachments.forEach((a, i) => entries.push([`attachment${i + 1}`, bytes(a)]))

  const zip = new ZipLayout()
  const options: ZipEntryOptions = { mtime: record.time ?? new Date(), mode: CONTAINER_ENTRY_MODE, dataDescriptor: false, extendedTimestamp: false }
  const pieces: Buffer[] = []
  for (const [name, data] of entries) {
    pieces.push(...(Buffer.isBuffer(data) ? await zip.deflated(name, data, options) : zip.entry(name, data.compressed, data.crc, data.size, options)))
  }
  pieces.push(zip.end(`mimetype=${ASIC_MIME_TYPE}`))
  return Buffer.concat(pieces, zip.offset)
}

export interface AsicReadLimits {
  /** Entries in the central directory (X-Road's containers have at most 11 plus attachments). */
  maxEntries?: number
  /** Uncompressed bytes of one entry. */
  maxEntryBytes?: number
  /** Uncompressed bytes of all entries together, declared and read. */
  maxTotalBytes?: number
  /** Uncompressed : compressed size of an entry larger than {@link RATIO_FLOOR_BYTES} (a ZIP bomb's signature). */
  maxCompressionRatio?: number
  /** Characters of an entry name. */
  maxNameLength?: number
}

/**
 * Reading bounds: the largest body a server accepts (64 MiB) fits in one entry, the whole container in 80 MiB.
 * Entries above 1 MiB may not compress more than 200:1 (text and JSON bodies compress 5–20:1; DEFLATE's ceiling
 * is about 1 032:1), so a small upload cannot expand into a large buffer.
 */
export const DEFAULT_ASIC_READ_LIMITS: Required<AsicReadLimits> = {
  maxEntries: 128,
  maxEntryBytes: 64 * 1024 * 1024,
  maxTotalBytes: 80 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxNameLength: 255,
}

export const RATIO_FLOOR_BYTES = 1024 * 1024

function asicError(code: 'asic_mime_type_not_found' | 'asic_message_not_found' | 'asic_signature_not_found' | 'asic_invalid_mime_type' |
  'asic_hash_chain_result_not_found' | 'asic_hash_chain_not_found' | 'asic_timestamp_not_found' | 'asic_manifest_not_found' | 'archive_invalid',
message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError(code, message, { clientFault: true, cause })
}

/** An entry name from outside: bounded, printable, relative, without '..' segments or backslashes. */
function nameProblem(name: string, maxLength: number): string | undefined {
  if (name.length > maxLength) return `an entry name is longer than ${maxLength} characters`
  if (/[\x00-\x1f\x7f\\]/.test(name)) return 'an entry name contains a control character or a backslash'
  if (name.startsWith('/') || name.split('/').includes('..')) return `entry name ${JSON.stringify(name.slice(0, 60))} is not a relative path`
  return undefined
}

/**
 * Unzips every entry with bounded counts, names, sizes and compression ratios (a container is evidence from outside).
 * The entry count and the declared total are checked from the central directory before any entry is read, each
 * entry's declared size and ratio before it is inflated, and read bytes are counted while inflating (yauzl `validateEntrySizes` also stops an entry that inflates past its declared size). Time and
 * memory are O(compressed size + maxTotalBytes).
 */
function unzip(buf: Buffer, limits: Required<AsicReadLimits>): Promise<{ entries: Map<string, Buffer>; order: string[]; comment: string }> {
  return new Promise((resolve, reject) => {
    const problem = buf.length >= 22 ? centralDirectoryProblem(buf) : undefined
    if (problem !== undefined) {
      reject(asicError('archive_invalid', `Container is not a well-formed ZIP archive: ${problem}`))
      return
    }
    const declaredTotal = buf.length >= 22 ? centralDirectoryTotal(buf) : 0
    if (declaredTotal > limits.maxTotalBytes) {
      reject(asicError('archive_invalid', 'Container content exceeds the size limit'))
      return
    }
    yauzl.fromBuffer(buf, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => {
      if (err || zip === undefined) {
        reject(asicError('archive_invalid', `Container is not a ZIP archive: ${err?.message ?? 'unreadable'}`, err))
        return
      }
      const entries = new Map<string, Buffer>()
      const order: string[] = []
      let total = 0
      const fail = (e: SecurityServerError): void => {
        zip.close()
        reject(e)
      }
      zip.on('error', (e: Error) => reject(asicError('archive_invalid', `Corrupt ZIP archive: ${e.message}`, e)))
      zip.on('end', () => resolve({ entries, order, comment: zip.comment }))
      if (zip.entryCount > limits.maxEntries) {
        fail(asicError('archive_invalid', `Container has more than ${limits.maxEntries} entries`))
        return
      }
      let declared = 0
      zip.on('entry', (entry: yauzl.Entry) => {
        const badName = nameProblem(entry.fileName, limits.maxNameLength)
        if (badName !== undefined) return fail(asicError('archive_invalid', `Container ${badName}`))
        if (entry.fileName.endsWith('/')) {
          zip.readEntry()
          return
        }
        if (entries.has(entry.fileName)) return fail(asicError('archive_invalid', `Container has a duplicate entry '${entry.fileName}'`))
        if (entry.uncompressedSize > limits.maxEntryBytes) return fail(asicError('archive_invalid', `Entry '${entry.fileName}' is too large`))
        declared += entry.uncompressedSize
        if (declared > limits.maxTotalBytes) return fail(asicError('archive_invalid', 'Container content exceeds the size limit'))
        if (entry.uncompressedSize > RATIO_FLOOR_BYTES && entry.uncompressedSize > limits.maxCompressionRatio * Math.max(1, entry.compressedSize)) {
          return fail(asicError('archive_invalid', `Entry '${entry.fileName}' compresses more than ${limits.maxCompressionRatio}:1`))
        }
        zip.openReadStream(entry, (e, stream) => {
          if (e || stream === undefined) return fail(asicError('archive_invalid', `Cannot read entry '${entry.fileName}': ${e?.message}`, e))
          const chunks: Buffer[] = []
          let size = 0
          stream.on('data', (c: Buffer) => {
            size += c.length
            total += c.length
            if (size > limits.maxEntryBytes || total > limits.maxTotalBytes) {
              stream.destroy()
              fail(asicError('archive_invalid', 'Container content exceeds the size limit'))
            } else chunks.push(c)
          })
          stream.on('error', (se: Error) => fail(asicError('archive_invalid', `Corrupt entry '${entry.fileName}': ${se.message}`, se)))
          stream.on('end', () => {
            const data = Buffer.concat(chunks)
            // APPNOTE 4.4.7: the CRC-32 of the uncompressed data (yauzl does not check it).
            if ((crc32(data) >>> 0) !== entry.crc32) return fail(asicError('archive_invalid', `CRC-32 mismatch in entry '${entry.fileName}'`))
            const header = localHeaderProblem(buf, entry)
            if (header !== undefined) return fail(asicError('archive_invalid', `Entry '${entry.fileName}': ${header}`))
            entries.set(entry.fileName, data)
            order.push(entry.fileName)
            zip.readEntry()
          })
        })
      })
      zip.readEntry()
    })
  })
}

/**
 * APPNOTE 4.3.7/4.3.9: the local file header (and data descriptor) must agree with the central directory, so that
 * no header byte can change without notice.
 */
function localHeaderProblem(buf: Buffer, entry: yauzl.Entry): string | undefined {
  const at = entry.relativeOffsetOfLocalHeader
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== 0x04034b50) return 'bad local header signature'
  const flags = buf.readUInt16LE(at + 6)
  if (buf.readUInt16LE(at + 4) !== entry.versionNeededToExtract) return 'local header version differs from the central directory'
  if (flags !== entry.generalPurposeBitFlag) return 'local header flags differ from the central directory'
  if (buf.readUInt16LE(at + 8) !== entry.compressionMethod) return 'local header compression method differs'
  if (buf.readUInt16LE(at + 10) !== entry.lastModFileTime || buf.readUInt16LE(at + 12) !== entry.lastModFileDate) return 'local header time differs'
  const nameLength = buf.readUInt16LE(at + 26)
  const extraLength = buf.readUInt16LE(at + 28)
  if (!buf.subarray(at + 30, at + 30 + nameLength).equals(Buffer.from(entry.fileName, 'utf8'))) return 'local header name differs'
  let crc = buf.readUInt32LE(at + 14)
  let compressed = buf.readUInt32LE(at + 18)
  let uncompressed = buf.readUInt32LE(at + 22)
  if (flags & 0x8) {
    let d = at + 30 + nameLength + extraLength + entry.compressedSize
    if (d + 12 > buf.length) return 'data descriptor missing'
    if (buf.readUInt32LE(d) === 0x08074b50) d += 4
    if (d + 12 > buf.length) return 'data descriptor missing'
    crc = buf.readUInt32LE(d)
    compressed = buf.readUInt32LE(d + 4)
    uncompressed = buf.readUInt32LE(d + 8)
  }
  if (crc !== entry.crc32 || compressed !== entry.compressedSize || uncompressed !== entry.uncompressedSize) {
    return 'local header CRC or sizes differ from the central directory'
  }
  return undefined
}

/**
 * Central-directory checks beyond yauzl's (APPNOTE 4.3.12, 4.3.16, 4.5): one disk only, directory size and offset
 * adding up to the end record, extra fields well-formed and their extended timestamps equal to the local
 * header's, and only X-Road's ZIP comment (or none).
 */
export function centralDirectoryProblem(buf: Buffer): string | undefined {
  let eocd = -1
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i
      break
    }
  }
  if (eocd < 0) return 'no end of central directory record'
  if (buf.readUInt16LE(eocd + 4) !== 0 || buf.readUInt16LE(eocd + 6) !== 0) return 'multi-disk archives are not containers'
  const count = buf.readUInt16LE(eocd + 10)
  if (buf.readUInt16LE(eocd + 8) !== count) return 'entry counts of the end record disagree'
  const size = buf.readUInt32LE(eocd + 12)
  const offset = buf.readUInt32LE(eocd + 16)
  const commentLength = buf.readUInt16LE(eocd + 20)
  if (eocd + 22 + commentLength !== buf.length) return 'data after the ZIP comment'
  const comment = buf.toString('utf8', eocd + 22)
  if (comment !== '' && comment !== `mimetype=${ASIC_MIME_TYPE}`) return `unexpected ZIP comment '${comment.slice(0, 60)}'`
  if (offset + size !== eocd) return 'central directory size and offset do not reach the end record'
  let at = offset
  for (let n = 0; n < count; n++) {
    if (at + 46 > eocd || buf.readUInt32LE(at) !== 0x02014b50) return 'bad central directory entry'
    const nameLength = buf.readUInt16LE(at + 28)
    const extraLength = buf.readUInt16LE(at + 30)
    const fileCommentLength = buf.readUInt16LE(at + 32)
    if (buf.readUInt16LE(at + 34) !== 0) return 'entry starts on another disk'
    const local = buf.readUInt32LE(at + 42)
    const centralExtra = extraFields(buf.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength))
    if (centralExtra === undefined) return 'malformed extra field in the central directory'
    if (local + 30 <= buf.length) {
      const localExtraStart = local + 30 + buf.readUInt16LE(local + 26)
      const localExtra = extraFields(buf.subarray(localExtraStart, localExtraStart + buf.readUInt16LE(local + 28)))
      if (localExtra === undefined) return 'malformed extra field in a local header'
      const centralUt = centralExtra.get(0x5455)
      const localUt = localExtra.get(0x5455)
      // Info-ZIP extended timestamp: the central copy holds the flags and mtime of the local one.
      if (centralUt !== undefined && localUt !== undefined && !centralUt.subarray(0, 5).equals(localUt.subarray(0, 5))) {
        return 'extended timestamps of central directory and local header differ'
      }
    }
    at += 46 + nameLength + extraLength + fileCommentLength
  }
  return at === eocd ? undefined : 'central directory has trailing bytes'
}

/** The uncompressed sizes the central directory declares, summed (called after `centralDirectoryProblem` passed). */
function centralDirectoryTotal(buf: Buffer): number {
  let eocd = buf.length - 22
  while (eocd > 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--
  let at = buf.readUInt32LE(eocd + 16)
  let total = 0
  for (let n = buf.readUInt16LE(eocd + 10); n > 0; n--) {
    total += buf.readUInt32LE(at + 24)
    at += 46 + buf.readUInt16LE(at + 28) + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32)
  }
  return total
}

function extraFields(data: Buffer): Map<number, Buffer> | undefined {
  const out = new Map<number, Buffer>()
  let i = 0
  while (i + 4 <= data.length) {
    const id = data.readUInt16LE(i)
    const len = data.readUInt16LE(i + 2)
    if (i + 4 + len > data.length || out.has(id)) return undefined
    out.set(id, data.subarray(i + 4, i + 4 + len))
    i += 4 + len
  }
  return i === data.length ? out : undefined
}

/** The DER time-stamp token of `timestamp.tst` (X-Road ≤ 6 stored it base64-encoded; both are accepted). */
function tokenBytes(raw: Buffer): Buffer {
  if (raw[0] === 0x30) return raw
  return Buffer.from(raw.toString('latin1').replace(/\s+/g, ''), 'base64')
}

/** Apache `StringUtils.isBlank` over the entry's UTF-8 text: absent, empty or whitespace only. */
function isBlank(data: Buffer | undefined): data is undefined {
  return data === undefined || /^\s*$/.test(data.toString('utf8'))
}

/** X-Road `AsicHelper.verifyHashChainEntries`: both absent is fine, one without the other is not. */
function checkHashChainPair(resultName: string, result: Buffer | undefined, chainName: string, chain: Buffer | undefined): void {
  if (isBlank(result) && isBlank(chain)) return
  if (isBlank(result)) throw asicError('asic_hash_chain_result_not_found', `${resultName} not found or is empty`)
  if (isBlank(chain)) throw asicError('asic_hash_chain_not_found', `${chainName} not found or is empty`)
}

/** A ZIP read from the start as `java.util.zip.ZipInputStream` reads it begins with a local file header. */
function startsAsZip(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === 0x04034b50
}

/**
 * Reads a container (bounded by {@link DEFAULT_ASIC_READ_LIMITS}) and checks its structure in X-Road's order
 * (`AsicHelper.read`, `AsicContainer.verifyContents`; a blank entry counts as missing): the mimetype (present, then
 * its value, case-insensitively), message.xml, META-INF/signatures.xml, the signature hash-chain pair, the time-stamp
 * — `META-INF/timestamp.tst` when present, else the one embedded in the signature (none at all is X-Road's
 * `malformed_signature` "Could not find element") — the time-stamp hash-chain pair, and the manifests, which may be
 * absent but not blank. Input that is not a ZIP from its first byte holds no entries, as for X-Road's
 * `ZipInputStream`, so it lacks the mimetype.
 */
export async function readAsicContainer(buf: Uint8Array, limits: AsicReadLimits = {}): Promise<AsicContents> {
  const raw = Buffer.from(buf)
  const { entries, order, comment } = startsAsZip(raw)
    ? await unzip(raw, { ...DEFAULT_ASIC_READ_LIMITS, ...limits })
    : { entries: new Map<string, Buffer>(), order: [], comment: '' }
  const mimetype = entries.get(ENTRY_MIMETYPE)
  if (isBlank(mimetype)) throw asicError('asic_mime_type_not_found', `${ENTRY_MIMETYPE} not found or is empty`)
  if (mimetype.toString('utf8').toLowerCase() !== ASIC_MIME_TYPE) {
    throw asicError('asic_invalid_mime_type', `Invalid mime type: ${mimetype.toString('utf8').slice(0, 100)}`)
  }
  const message = entries.get(ENTRY_MESSAGE)
  if (isBlank(message)) throw asicError('asic_message_not_found', `${ENTRY_MESSAGE} not found or is empty`)
  const signatureXml = entries.get(ENTRY_SIGNATURE)
  if (isBlank(signatureXml)) throw asicError('asic_signature_not_found', `${ENTRY_SIGNATURE} not found or is empty`)
  const sigResult = entries.get(ENTRY_SIG_HASH_CHAIN_RESULT)
  const sigChain = entries.get(ENTRY_SIG_HASH_CHAIN)
  checkHashChainPair(ENTRY_SIG_HASH_CHAIN_RESULT, sigResult, ENTRY_SIG_HASH_CHAIN, sigChain)

  const tst = entries.get(ENTRY_TIMESTAMP)
  let timestamp: Buffer
  if (tst !== undefined) {
    timestamp = tokenBytes(tst)
  } else {
    const embedded = parseSignature(signatureXml, { genericXml: true }).timestampToken
    if (embedded === undefined) {
      throw new SecurityServerError('malformed_signature', 'Could not find element "EncapsulatedTimeStamp"', { clientFault: true })
    }
    timestamp = embedded
  }
  if (timestamp.length === 0) throw asicError('asic_timestamp_not_found', `${ENTRY_TIMESTAMP} not found or is empty`)
  const tsResult = entries.get(ENTRY_TS_HASH_CHAIN_RESULT)
  const tsChain = entries.get(ENTRY_TS_HASH_CHAIN)
  checkHashChainPair(ENTRY_TS_HASH_CHAIN_RESULT, tsResult, ENTRY_TS_HASH_CHAIN, tsChain)

  const manifest = entries.get(ENTRY_MANIFEST)
  if (manifest !== undefined && isBlank(manifest)) throw asicError('asic_manifest_not_found', `${ENTRY_MANIFEST} not found or is empty`)
  const asicManifest = entries.get(ENTRY_ASIC_MANIFEST)
  if (asicManifest !== undefined && isBlank(asicManifest)) throw asicError('asic_manifest_not_found', `${ENTRY_ASIC_MANIFEST} not found or is empty`)

  const attachments: Buffer[] = []
  for (let i = 1; entries.has(`attachment${i}`); i++) attachments.push(entries.get(`attachment${i}`)!)
  const present = (data: Buffer | undefined): Buffer | undefined => (isBlank(data) ? undefined : data)
  return {
    entries, order, comment, message, signatureXml, sigHashChainResult: present(sigResult), sigHashChain: present(sigChain),
    tsHashChainResult: present(tsResult), tsHashChain: present(tsChain), timestampToken: tst === undefined ? undefined : timestamp,
    timestamp, asicManifest, attachments,
  }
}
