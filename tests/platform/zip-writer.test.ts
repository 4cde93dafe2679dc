import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { inflateRawSync } from 'node:zlib'
import yazl from 'yazl'
import { describe, expect, it } from 'vitest'
import { dosDateTime, SecurityServerError, SYNC_DEFLATE_BYTES, ZipLayout, type ZipEntryOptions } from '../../src-main/platform'
import { readZipEntries } from '../../src-main/message-log'
import { ASIC_MIME_TYPE, writeAsicContainer } from '../../src-main/signature'

/**
 * The ZIP writer against yazl, which wrote the message log's containers and archives before it: the same entries give
 * the same bytes, in both of the forms the log writes (sizes in the local header, DOS time only — a container; sizes in
 * a data descriptor, Info-ZIP timestamp — an archive).
 */

interface TestEntry { name: string; data: Buffer; mtime: Date }

function drain(zip: yazl.ZipFile): Promise<Buffer> {
  const chunks: Buffer[] = []
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c))
    zip.outputStream.on('error', reject)
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
  })
}

/** yazl's container form: `addBuffer`, compressed, DOS time forced, default mode, a ZIP comment. */
function yazlContainer(entries: TestEntry[], comment: string): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const e of entries) zip.addBuffer(e.data, e.name, { compress: true, mtime: e.mtime, forceDosTimestamp: true })
  zip.end({ comment, forceZip64Format: false })
  return drain(zip)
}

/** yazl's archive form: entries streamed (`addReadStreamLazy`), mode 0644, no comment. */
function yazlArchive(entries: TestEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const e of entries) zip.addReadStreamLazy(e.name, { mtime: e.mtime, mode: 0o100644, compress: true }, (done) => done(null, Readable.from([e.data])))
  zip.end()
  return drain(zip)
}

async function layout(entries: TestEntry[], options: Omit<ZipEntryOptions, 'mtime'>, comment = ''): Promise<Buffer> {
  const zip = new ZipLayout()
  const pieces: Buffer[] = []
  for (const e of entries) pieces.push(...await zip.deflated(e.name, e.data, { ...options, mtime: e.mtime }))
  pieces.push(zip.end(comment))
  const whole = Buffer.concat(pieces)
  expect(whole.length).toBe(zip.offset)
  return whole
}

/** Entries of every kind the log writes and then some: empty, tiny, text, random, around the in-place limit, non-ASCII names. */
function randomEntries(seed: number): TestEntry[] {
  const sizes = [0, 1, 31, 236, 1024, 5400, SYNC_DEFLATE_BYTES - 1, SYNC_DEFLATE_BYTES, SYNC_DEFLATE_BYTES + 1, 200_000]
  const count = 1 + (seed % 12)
  return Array.from({ length: count }, (_, i) => {
    const size = sizes[(seed * 7 + i * 3) % sizes.length]!
    const data = (seed + i) % 2 === 0
      ? Buffer.from(randomBytes(Math.ceil(size * 0.75) + 3).toString('base64').slice(0, size))
      : randomBytes(size)
    const mtime = new Date(Date.UTC(1975 + ((seed * 13 + i) % 140), (seed + i) % 12, 1 + ((seed * 5 + i) % 28), (seed + i) % 24, (seed * 3 + i) % 60, (seed + 2 * i) % 60))
    const name = i % 5 === 4 ? `liite-ä-${seed}-${i}/é.xml` : `entry-${seed}-${i}.xml`
    return { name, data, mtime }
  })
}

describe('ZipLayout', () => {
  it('writes a container (sizes in the local headers, DOS time only) byte for byte as yazl did, for 40 random sets of entries', async () => {
    for (let seed = 0; seed < 40; seed++) {
      const entries = randomEntries(seed)
      const comment = seed % 3 === 0 ? '' : 'mimetype=application/vnd.etsi.asic-e+zip'
      const ours = await layout(entries, { mode: 0o100664, dataDescriptor: false, extendedTimestamp: false }, comment)
      expect(ours.equals(await yazlContainer(entries, comment)), `seed ${seed}`).toBe(true)
    }
  })

  it('writes an archive (data descriptors, Info-ZIP timestamps, mode 0644) byte for byte as yazl did, for 40 random sets of entries', async () => {
    for (let seed = 0; seed < 40; seed++) {
      const entries = randomEntries(seed + 1000)
      const ours = await layout(entries, { mode: 0o100644, dataDescriptor: true, extendedTimestamp: true })
      expect(ours.equals(await yazlArchive(entries)), `seed ${seed}`).toBe(true)
    }
  })

  it('writes an evidence container byte for byte as yazl did, its repeated entries (mimetype, manifest) deflated once', async () => {
    for (let seed = 0; seed < 6; seed++) {
      const text = (n: number): string => randomBytes(n).toString('base64')
      const body = randomBytes(seed === 5 ? SYNC_DEFLATE_BYTES * 3 : 100 * seed)
      const batch = seed % 2 === 1
      const container = await writeAsicContainer({
        message: text(300), signatureXml: `<signatures>${text(2000)}</signatures>`, time: new Date(Date.UTC(2026, seed, 8, 10, 30, 15)),
        attachments: seed === 0 ? [] : [body, body.subarray(7)],
        ...(batch ? { sigHashChainResult: text(300), sigHashChain: text(500), tsHashChainResult: text(900), tsHashChain: text(600), timestampToken: randomBytes(2500) } : {}),
      })
      const entries = (await readZipEntries(container)).map((e) => ({ ...e, mtime: new Date(Date.UTC(2026, seed, 8, 10, 30, 15)) }))
      expect(entries.map((e) => e.name)).toContain(batch ? 'META-INF/timestamp.tst' : 'META-INF/manifest.xml')
      expect(container.equals(await yazlContainer(entries, `mimetype=${ASIC_MIME_TYPE}`)), `seed ${seed}`).toBe(true)
    }
  })

  it('gives back every entry whole through a ZIP reader, and an empty ZIP is a bare end record', async () => {
    const entries = randomEntries(11)
    const read = await readZipEntries(await layout(entries, { mode: 0o100644, dataDescriptor: true, extendedTimestamp: true }))
    expect(read.map((e) => e.name)).toEqual(entries.map((e) => e.name))
    read.forEach((e, i) => expect(e.data.equals(entries[i]!.data)).toBe(true))
    expect(new ZipLayout().end()).toEqual(Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]))
  })

  it('deflates small entries in place and large ones in the pool, to the same raw DEFLATE', async () => {
    const zip = new ZipLayout()
    const small = Buffer.alloc(SYNC_DEFLATE_BYTES, 'a')
    const large = Buffer.alloc(SYNC_DEFLATE_BYTES + 1, 'a')
    const [, smallData] = await zip.deflated('s', small, { mtime: new Date(), mode: 0o100644, dataDescriptor: false, extendedTimestamp: false })
    const [, largeData] = await zip.deflated('l', large, { mtime: new Date(), mode: 0o100644, dataDescriptor: false, extendedTimestamp: false })
    expect(inflateRawSync(smallData!).equals(small)).toBe(true)
    expect(inflateRawSync(largeData!).equals(large)).toBe(true)
    // An incompressible entry outgrows the output buffer sized to its input and still comes whole.
    const random = randomBytes(SYNC_DEFLATE_BYTES)
    const [, randomData] = await zip.deflated('r', random, { mtime: new Date(), mode: 0o100644, dataDescriptor: false, extendedTimestamp: false })
    expect(randomData!.length).toBeGreaterThan(random.length)
    expect(inflateRawSync(randomData!).equals(random)).toBe(true)
  })

  it('refuses what would need ZIP64 records rather than write a ZIP that lies about its offsets', () => {
    const options: ZipEntryOptions = { mtime: new Date(), mode: 0o100644, dataDescriptor: true, extendedTimestamp: true }
    const zip = new ZipLayout()
    zip.offset = 0xffffffff
    expect(() => zip.entry('x', Buffer.alloc(2), 0, 0, options)).toThrow(SecurityServerError)
    expect(() => zip.end()).toThrow(/ZIP64/)
  })

  it('writes DOS times in local time, clamped to 1980–2107, seconds halved', () => {
    expect(dosDateTime(new Date(1979, 5, 1))).toEqual(dosDateTime(new Date(1980, 0, 1)))
    expect(dosDateTime(new Date(2200, 0, 1))).toEqual(dosDateTime(new Date(2107, 11, 31, 23, 59, 58)))
    expect(dosDateTime(new Date(2026, 11, 8, 13, 45, 59))).toEqual({ date: (46 << 9) | (12 << 5) | 8, time: (13 << 11) | (45 << 5) | 29 })
  })
})
