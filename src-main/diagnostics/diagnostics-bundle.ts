import yazl from 'yazl'

/**
 * The diagnostics bundle's ZIP: text entries in the order given, under one folder named like the file. What goes in is
 * decided by the caller (src-main/server), which never hands over PINs, passwords, keys or message bodies.
 */
export interface BundleEntry {
  name: string
  content: string
}

export async function writeBundleZip(folder: string, entries: readonly BundleEntry[], at: Date): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const entry of entries) zip.addBuffer(Buffer.from(entry.content, 'utf8'), `${folder}/${entry.name}`, { mtime: at })
  zip.end()
  const chunks: Buffer[] = []
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/**
 * Log lines as they go into the bundle: pino has already redacted secret fields (platform/logger.ts); this also blanks
 * any value under a key that names a secret, in case a line was written by something else. Nested `message` fields
 * (an error's) stay: they say what failed.
 */
const SECRET_TOP_KEY = /^(pin|oldPin|newPin|password|passphrase|secret|privateKey|apiKey|key|token|cookie|authorization|body|message|attachment)$/i
const SECRET_KEY = /^(pin|oldPin|newPin|password|passphrase|secret|privateKey|apiKey|cookie|authorization|body|attachment)$/i

export function scrubLogLine(line: string): string {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return JSON.stringify({ note: 'a line that is not JSON was left out' })
  }
  return JSON.stringify(parsed, function (this: unknown, key: string, value: unknown) {
    if (key === '' || value === null || typeof value === 'object') return value
    return (this === parsed ? SECRET_TOP_KEY : SECRET_KEY).test(key) ? '[redacted]' : value
  })
}
