import yauzl from 'yauzl'
import { SecurityServerError } from '../platform'

/** Reading a whole (bounded) ZIP into memory, for archive verification and tests of what was written. */
export interface ZipEntryData {
  name: string
  data: Buffer
}

export async function readZipEntries(source: string | Buffer, maxTotalBytes = 2 * 1024 * 1024 * 1024): Promise<ZipEntryData[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    const done = (err: Error | null, z?: yauzl.ZipFile): void => (err || z === undefined ? reject(err) : resolve(z))
    if (typeof source === 'string') yauzl.open(source, { lazyEntries: true, autoClose: true }, done)
    else yauzl.fromBuffer(source, { lazyEntries: true }, done)
  }).catch((cause: unknown) => {
    throw new SecurityServerError('archive_invalid', `Not a readable ZIP file: ${(cause as Error).message}`, { cause, detail: 'not_zip', clientFault: true })
  })
  const entries: ZipEntryData[] = []
  let total = 0
  return new Promise<ZipEntryData[]>((resolve, reject) => {
    const fail = (cause: unknown): void => {
      zip.close()
      const reason = typeof cause === 'string' ? cause : (cause as Error).message
      reject(new SecurityServerError('archive_invalid', `Cannot read ZIP entry: ${reason}`, { cause, detail: 'not_zip', clientFault: true }))
    }
    zip.on('error', fail)
    zip.on('end', () => resolve(entries))
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName.endsWith('/')) {
        zip.readEntry()
        return
      }
      total += entry.uncompressedSize
      if (total > maxTotalBytes) {
        fail('ZIP content exceeds the size limit')
        return
      }
      zip.openReadStream(entry, (err, stream) => {
        if (err || stream === undefined) {
          fail(err ?? 'no stream')
          return
        }
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('error', fail)
        stream.on('end', () => {
          entries.push({ name: entry.fileName, data: Buffer.concat(chunks) })
          zip.readEntry()
        })
      })
    })
    zip.readEntry()
  })
}
