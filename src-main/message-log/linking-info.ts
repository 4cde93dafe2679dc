import { createHash } from 'node:crypto'
import { SecurityServerError } from '../platform'

/**
 * The `linkinginfo` entry that chains log archives (xroad-protocols.md §6.5; reliability-and-security.md §1.7;
 * code `LinkingInfoBuilder`): first line `{prevDigest|-} {prevFileName|-} {HashAlg}`, then per container
 * `{digest_i} {fileName}` with digest_i = hex(H(UTF8(digest_{i-1} + hex(H(container_i))))), digest_0 = the previous
 * archive's last digest or the empty string; lowercase hex, `\n` after every line.
 */

export type LinkingHashAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512'
export const LINKING_HASH_ALGORITHMS: readonly LinkingHashAlgorithm[] = ['SHA-256', 'SHA-384', 'SHA-512']

export function nodeHashName(algorithm: LinkingHashAlgorithm): string {
  return algorithm.replace('-', '').toLowerCase()
}

/** digest_i from digest_{i-1} and the container bytes. */
export function nextLinkDigest(algorithm: LinkingHashAlgorithm, previous: string, container: Uint8Array): string {
  const fileHash = createHash(nodeHashName(algorithm)).update(container).digest('hex')
  return createHash(nodeHashName(algorithm)).update(previous + fileHash, 'utf8').digest('hex')
}

export class LinkingInfoBuilder {
  private readonly lines: string[] = []
  private current: string

  constructor(
    readonly algorithm: LinkingHashAlgorithm,
    readonly previous?: { digest: string; fileName: string },
  ) {
    this.current = previous?.digest ?? ''
  }

  addFile(fileName: string, container: Uint8Array): void {
    this.current = nextLinkDigest(this.algorithm, this.current, container)
    this.lines.push(`${this.current} ${fileName}`)
  }

  get lastDigest(): string {
    return this.current
  }

  build(): string {
    const head = `${this.previous?.digest ?? '-'} ${this.previous?.fileName ?? '-'} ${this.algorithm}`
    return [head, ...this.lines].map((l) => `${l}\n`).join('')
  }
}

export interface ParsedLinkingInfo {
  previousDigest: string | null
  previousFileName: string | null
  algorithm: LinkingHashAlgorithm
  entries: Array<{ digest: string; fileName: string }>
}

export function parseLinkingInfo(text: string): ParsedLinkingInfo {
  const lines = text.split('\n').filter((l) => l.length > 0)
  const head = lines.shift()?.split(' ')
  if (head === undefined || head.length !== 3) {
    throw new SecurityServerError('archive_invalid', 'linkinginfo has no valid first line', { detail: 'malformed_linkinginfo' })
  }
  const [prev, prevFile, algorithm] = head as [string, string, string]
  if (!(LINKING_HASH_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new SecurityServerError('archive_invalid', `linkinginfo names an unknown hash algorithm '${algorithm}'`, { detail: 'malformed_linkinginfo' })
  }
  const entries = lines.map((line) => {
    const space = line.indexOf(' ')
    if (space <= 0) throw new SecurityServerError('archive_invalid', `linkinginfo line '${line}' is malformed`, { detail: 'malformed_linkinginfo' })
    return { digest: line.slice(0, space), fileName: line.slice(space + 1) }
  })
  return {
    previousDigest: prev === '-' ? null : prev,
    previousFileName: prevFile === '-' ? null : prevFile,
    algorithm: algorithm as LinkingHashAlgorithm,
    entries,
  }
}
