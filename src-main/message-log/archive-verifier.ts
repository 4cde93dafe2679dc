import { basename } from 'node:path'
import { readZipEntries } from './zip-support'
import { nextLinkDigest, parseLinkingInfo, type LinkingHashAlgorithm } from './linking-info'
import { SecurityServerError } from '../platform'

/**
 * Verification of a log archive's linking chain with the semantics of X-Road's `messagelog-archive-verifier`
 * (xroad-protocols.md §6.5; reliability-and-security.md §1.7): the first line against the previous archive's last
 * digest, the container set equal to the files listed, each per-file digest, and the last digest for the next archive.
 */

export type ArchiveProblem =
  | 'not_zip' | 'no_linkinginfo' | 'malformed_linkinginfo' | 'no_containers' | 'previous_digest_mismatch'
  | 'files_mismatch' | 'digest_mismatch'

export type ArchiveVerification =
  | { valid: true; archive: string; algorithm: LinkingHashAlgorithm; previousDigest: string | null; files: number; lastDigest: string }
  | { valid: false; archive: string; code: 'archive_invalid'; reason: ArchiveProblem; detail: string }

export type ArchiveChainStart = { previousDigest: string } | { first: true }

export const LINKING_INFO_ENTRY = 'linkinginfo'

export async function verifyArchive(zip: string | Buffer, start: ArchiveChainStart): Promise<ArchiveVerification> {
  const archive = typeof zip === 'string' ? basename(zip) : '(buffer)'
  const invalid = (reason: ArchiveProblem, detail: string): ArchiveVerification => ({ valid: false, archive, code: 'archive_invalid', reason, detail })
  let entries
  try {
    entries = await readZipEntries(zip)
  } catch (error) {
    return invalid('not_zip', (error as Error).message)
  }
  const linking = entries.find((e) => e.name === LINKING_INFO_ENTRY)
  if (linking === undefined) return invalid('no_linkinginfo', 'The archive has no linkinginfo entry')
  const containers = new Map(entries.filter((e) => e.name !== LINKING_INFO_ENTRY).map((e) => [e.name, e.data]))
  if (containers.size === 0) return invalid('no_containers', 'The archive holds no ASiC containers')
  let parsed
  try {
    parsed = parseLinkingInfo(linking.data.toString('utf8'))
  } catch (error) {
    return invalid('malformed_linkinginfo', (error as SecurityServerError).message)
  }
  // The first line must name the previous archive's last digest ('-' only for the first archive of a chain).
  if ('previousDigest' in start) {
    if (parsed.previousDigest?.toLowerCase() !== start.previousDigest.toLowerCase()) {
      return invalid('previous_digest_mismatch', `linkinginfo starts from ${parsed.previousDigest ?? '-'}, expected ${start.previousDigest}`)
    }
  }
  const listed = parsed.entries.map((e) => e.fileName)
  const missing = listed.filter((name) => !containers.has(name))
  const unlisted = [...containers.keys()].filter((name) => !listed.includes(name))
  if (missing.length > 0 || unlisted.length > 0 || new Set(listed).size !== listed.length) {
    return invalid('files_mismatch', `Files differ from linkinginfo (missing: ${missing.join(', ') || 'none'}; not listed: ${unlisted.join(', ') || 'none'})`)
  }
  let current = 'previousDigest' in start ? start.previousDigest.toLowerCase() : (parsed.previousDigest ?? '')
  for (const entry of parsed.entries) {
    current = nextLinkDigest(parsed.algorithm, current, containers.get(entry.fileName) as Buffer)
    if (current !== entry.digest.toLowerCase()) {
      return invalid('digest_mismatch', `Digest of ${entry.fileName} does not match linkinginfo`)
    }
  }
  return { valid: true, archive, algorithm: parsed.algorithm, previousDigest: parsed.previousDigest, files: parsed.entries.length, lastDigest: current }
}
