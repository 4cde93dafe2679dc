import { randomBytes } from 'node:crypto'
import * as yazl from 'yazl'
import { describe, expect, it, vi } from 'vitest'
import { ASIC_MIME_TYPE, readAsicContainer, verifyAsicContainer, writeAsicContainer } from '../../src-main/signature'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * ZIP/ASiC containers from outside (uploads to `messageLog.verify`, `gatehouse asic verify`): bombs, lying sizes, many
 * entries, long and escaping names are refused with `archive_invalid` and a bounded message, in time comparable to a
 * benign container of the same (compressed) size. Bound: O(compressed size + maxTotalBytes) time and memory.
 */
// The bound under test is the ratio to the benign input; a loaded machine may only make the whole run slower.
vi.setConfig({ testTimeout: 180_000 })

function zipOf(entries: Array<[string, Buffer]>, compress = true): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, data] of entries) zip.addBuffer(data, name, { compress, mtime: new Date(2026, 0, 1), forceDosTimestamp: true })
  zip.end({ comment: `mimetype=${ASIC_MIME_TYPE}`, forceZip64Format: false })
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c))
    zip.outputStream.on('error', reject)
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
  })
}

const basics = (): Array<[string, Buffer]> => [
  ['mimetype', Buffer.from(ASIC_MIME_TYPE)], ['message.xml', Buffer.from('GET\r\n/r1/x\r\nx-road-client:DEV/COM/1/C\r\n')],
  ['META-INF/signatures.xml', Buffer.from('<s/>')],
  // A standalone time-stamp: without one the reader looks for the signature's own (X-Road `AsicContainer.get`).
  ['META-INF/timestamp.tst', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])],
]

/** A container of about `bytes` compressed bytes whose attachment does not compress (the benign counterpart). */
async function benignOfSize(bytes: number): Promise<Buffer> {
  return zipOf([...basics(), ['attachment1', randomBytes(Math.max(0, bytes - 600))]])
}

/** Sets an entry's uncompressed size in both its local header and its central directory record. */
function declareUncompressedSize(zip: Buffer, name: string, size: number): Buffer {
  const out = Buffer.from(zip)
  const nameBytes = Buffer.from(name)
  for (let i = 0; i + 46 < out.length; i++) {
    const signature = out.readUInt32LE(i)
    if (signature === 0x04034b50 && out.subarray(i + 30, i + 30 + nameBytes.length).equals(nameBytes) && out.readUInt16LE(i + 26) === nameBytes.length) out.writeUInt32LE(size, i + 22)
    if (signature === 0x02014b50 && out.subarray(i + 46, i + 46 + nameBytes.length).equals(nameBytes) && out.readUInt16LE(i + 28) === nameBytes.length) out.writeUInt32LE(size, i + 24)
  }
  return out
}

/** Renames an entry in place (same length), for names the ZIP writer itself refuses. */
function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  expect(Buffer.byteLength(to)).toBe(Buffer.byteLength(from))
  const out = Buffer.from(zip)
  const a = Buffer.from(from)
  for (let at = out.indexOf(a); at >= 0; at = out.indexOf(a, at + 1)) Buffer.from(to).copy(out, at)
  return out
}

/** `size` bytes that compress about 40:1: zeros with one random byte in a hundred. */
function compressible(size: number): Buffer {
  const data = Buffer.alloc(size)
  const noise = randomBytes(Math.ceil(size / 100))
  for (let i = 0; i < noise.length; i++) data[i * 100] = noise[i]!
  return data
}

const read = (container: Buffer) => readAsicContainer(container)

describe('ZIP/ASiC containers', () => {
  it('refuses a 64 MiB attachment of zeros (a 64 KB bomb) from its declared ratio, before inflating it', async () => {
    const bomb = await zipOf([...basics(), ['attachment1', Buffer.alloc(64 * 1024 * 1024)]])
    expect(bomb.length).toBeLessThan(200 * 1024)
    const benign = await benignOfSize(bomb.length)
    const { adversarial } = await compareWithBenign('ZIP: 64 MiB of zeros', () => read(bomb), () => read(benign))
    expectRefusal(adversarial, 'archive_invalid', 200)
    expect((adversarial.error as Error).message).toMatch(/compresses more than 200:1/)
  })

  it('stops an entry that inflates past its declared size while inflating', async () => {
    const honest = await zipOf([...basics(), ['attachment1', Buffer.alloc(32 * 1024 * 1024)]])
    const lying = declareUncompressedSize(honest, 'attachment1', 1000)
    const benign = await benignOfSize(lying.length)
    const { adversarial } = await compareWithBenign('ZIP: declared 1 000 bytes, inflates to 32 MiB', () => read(lying), () => read(benign))
    expectRefusal(adversarial, 'archive_invalid', 300)
  })

  it('refuses more than 80 MiB declared in total, from the central directory', async () => {
    const many = await zipOf([...basics(), ...Array.from({ length: 40 }, (_, i) => [`attachment${i + 1}`, compressible(3 * 1024 * 1024)] as [string, Buffer])])
    const benign = await benignOfSize(many.length)
    const { adversarial } = await compareWithBenign('ZIP: 40 × 3 MiB entries', () => read(many), () => read(benign))
    expectRefusal(adversarial, 'archive_invalid', 200)
    expect((adversarial.error as Error).message).toMatch(/size limit/)
  })

  it('refuses 5 000 entries from the end record', async () => {
    const many = await zipOf([...basics(), ...Array.from({ length: 5000 }, (_, i) => [`e${i}`, Buffer.from('x')] as [string, Buffer])])
    const benign = await benignOfSize(many.length)
    const { adversarial } = await compareWithBenign('ZIP: 5 000 entries', () => read(many), () => read(benign))
    expectRefusal(adversarial, 'archive_invalid', 200)
    expect((adversarial.error as Error).message).toMatch(/more than 128 entries/)
  })

  it.each([
    ['a 60 000-character name', 'a'.repeat(60_000), /longer than 255/],
    ['a parent-directory name', '../../etc/passwd', /relative path/],
    ['an absolute name', '/etc/passwd', /not a relative path|absolute path/],
    ['a control character in a name', 'a\u0001b', /control character/],
  ])('refuses %s with a bounded message', async (label, name, message) => {
    // The writer refuses escaping names itself: the entry is written under a placeholder and renamed in the bytes.
    const placeholder = 'q'.repeat(Buffer.byteLength(name))
    const container = renameEntry(await zipOf([...basics(), [placeholder, Buffer.from('x')]]), placeholder, name)
    const benign = await benignOfSize(container.length)
    const { adversarial } = await compareWithBenign(`ZIP: ${label}`, () => read(container), () => read(benign))
    expectRefusal(adversarial, 'archive_invalid', 200)
    expect((adversarial.error as Error).message).toMatch(message)
  })

  it('verifies nothing of a container it refused: the 1.4 KB message bomb is never parsed after an unusable signature', async () => {
    // X-Road's order (AsicContainer, AsicContainerVerifier): the signature document is read before message.xml.
    const container = await writeAsicContainer({ message: '<'.repeat(600 * 1024), signatureXml: '<s/>' })
    await expect(verifyAsicContainer(container, () => {
      throw new Error('not reached')
    })).rejects.toMatchObject({ code: 'malformed_signature' })
  })
})
