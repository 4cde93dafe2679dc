import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { INSTANCE_IDENTIFIER_FILE, SHARED_PARAMS_FILE, parsePartMetadata } from './configuration-directory'
import { currentGenerationDir } from './configuration-store'

/** One file of the verification configuration ZIP: its name in the ZIP and its bytes. */
export interface VerificationConfEntry {
  readonly name: string
  readonly data: Buffer
}

const PREFIX = 'verificationconf/'

/**
 * The verification configuration an offline verifier needs (the client proxy's `GET /verificationconf`), as X-Road's
 * `AsicContainerClientRequestProcessor.VerificationConfWriter` writes it: for every instance of the stored global
 * configuration `verificationconf/{INSTANCE}/shared-params.xml`, followed by its `.metadata` holding only
 * `configurationVersion` (`{"configurationVersion":"3"}`, or `{}` when the stored metadata names none), and last
 * `verificationconf/instance-identifier` with the own instance. Returns no entries before a configuration is stored.
 */
export function verificationConfEntries(globalConfDir: string): VerificationConfEntry[] {
  const root = currentGenerationDir(globalConfDir) ?? globalConfDir
  const identifierFile = join(root, INSTANCE_IDENTIFIER_FILE)
  if (!existsSync(identifierFile)) return []
  const entries: VerificationConfEntry[] = []
  const instances = readdirSync(root).filter((name) => !name.startsWith('.') && statSync(join(root, name)).isDirectory()).sort()
  for (const instance of instances) {
    const shared = join(root, instance, SHARED_PARAMS_FILE)
    if (!existsSync(shared)) continue
    const metadataFile = `${shared}.metadata`
    const version = existsSync(metadataFile) ? parsePartMetadata(readFileSync(metadataFile, 'utf8'), metadataFile).configurationVersion : undefined
    const metadata = version === undefined ? {} : { configurationVersion: String(version) }
    entries.push(
      { name: `${PREFIX}${instance}/${SHARED_PARAMS_FILE}`, data: readFileSync(shared) },
      { name: `${PREFIX}${instance}/${SHARED_PARAMS_FILE}.metadata`, data: Buffer.from(JSON.stringify(metadata), 'utf8') },
    )
  }
  if (entries.length === 0) return []
  entries.push({ name: `${PREFIX}${INSTANCE_IDENTIFIER_FILE}`, data: Buffer.from(readFileSync(identifierFile, 'utf8').trim(), 'utf8') })
  return entries
}
