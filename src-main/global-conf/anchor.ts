import { createHash } from 'node:crypto'
import type { Element } from '@xmldom/xmldom'
import type { ErrorCode } from '@shared/error-codes'
import type { AnchorSource, ConfigurationAnchor } from './conf-model'
import { children, confError, decodeCertificate, optionalText, parseConfRoot, requiredText, text } from './conf-xml'

/**
 * Configuration anchors (PR-GCONF §2.2, Annex E; xroad-protocols.md §5.1): parsing, validation and the
 * SHA-256 hash an operator compares with the one the central server publishes.
 */
export interface ParsedAnchor extends ConfigurationAnchor {
  /** SHA-256 of the anchor file bytes, upper-case hex in colon-separated pairs (X-Road UI form). */
  readonly hash: string
}

/** Parses and validates an anchor file; any problem is `malformed_anchor` and no network is touched. */
export function parseConfigurationAnchor(xml: string | Uint8Array): ParsedAnchor {
  const root = parseConfRoot(xml, 'configurationAnchor', 'malformed_anchor')
  return { ...parseAnchorElement(root, 'malformed_anchor'), hash: anchorHash(xml) }
}

/** The anchor content shared by anchor files and `private-params/configurationAnchor`. */
export function parseAnchorElement(el: Element, code: ErrorCode): ConfigurationAnchor {
  const generated = optionalText(el, 'generatedAt', code)
  let generatedAt: Date | undefined
  if (generated !== undefined) {
    generatedAt = new Date(generated)
    if (Number.isNaN(generatedAt.getTime())) throw confError(`Anchor generatedAt '${generated}' is not a date`, undefined, code)
  }
  const instanceIdentifier = requiredText(el, 'instanceIdentifier', code)
  const sources: AnchorSource[] = children(el, 'source').map((s) => {
    const downloadUrl = requiredText(s, 'downloadURL', code)
    checkDownloadUrl(downloadUrl, code)
    const certs = children(s, 'verificationCert').map((c) => decodeCertificate(text(c), 'verificationCert', code))
    // private-parameters.xsd ConfigurationSourceType: verificationCert maxOccurs unbounded, minOccurs 1.
    if (certs.length === 0) throw confError(`Anchor source ${downloadUrl} has no verificationCert`, undefined, code)
    return { downloadUrl, verificationCerts: certs }
  })
  if (sources.length === 0) throw confError(`Anchor for ${instanceIdentifier} has no source`, undefined, code)
  return { ...(generatedAt ? { generatedAt } : {}), instanceIdentifier, sources }
}

function checkDownloadUrl(value: string, code: ErrorCode): void {
  let url: URL
  try {
    url = new URL(value)
  } catch (cause) {
    throw confError(`Anchor downloadURL '${value}' is not a URL`, cause, code)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw confError(`Anchor downloadURL '${value}' must use http or https`, undefined, code)
  }
}

/** SHA-256 over the exact anchor file bytes, grouped for reading aloud: `AB:CD:…`. */
export function anchorHash(xml: string | Uint8Array): string {
  const hex = createHash('sha256').update(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml).digest('hex').toUpperCase()
  return hex.match(/../g)?.join(':') ?? hex
}
