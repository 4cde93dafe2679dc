import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Requirement } from '../../support/requirements'

/**
 * pr-mserv (X-Road's `doc/Protocols/pr-mserv_x-road_protocol_for_management_services.md`) read from a local mirror of
 * X-Road's sources (a bare git directory; GATEHOUSE_XROAD_MIRROR, default /work/.mirror/nordic-institute+X-Road/repo):
 * its Annex A example messages and Annex B WSDL. The fixtures hold request.xsd but not the document itself.
 */
const MIRROR = process.env.GATEHOUSE_XROAD_MIRROR ?? '/work/.mirror/nordic-institute+X-Road/repo'
const DOC = 'doc/Protocols/pr-mserv_x-road_protocol_for_management_services.md'

function readDoc(): string | undefined {
  if (!existsSync(MIRROR)) return undefined
  try {
    return execFileSync('git', ['--git-dir', MIRROR, 'show', `HEAD:${DOC}`], { encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 })
  } catch {
    return undefined
  }
}

let cached: string | undefined | null = null
function doc(): string | undefined {
  if (cached === null) cached = readDoc()
  return cached
}

export const PR_MSERV: Requirement = {
  get missing() {
    return doc() === undefined ? `pr-mserv not readable from an X-Road source mirror at ${MIRROR}` : undefined
  },
  packages: [],
  enable: 'a bare git mirror of nordic-institute/X-Road at GATEHOUSE_XROAD_MIRROR',
}

export interface AnnexExample {
  /** The request: the SOAP envelope (and the multipart parts around it, when shown). */
  readonly request: string
  readonly response: string
}

/** Annex A's example for one service: the first two code blocks under `### A.n {service}`. */
export function annexAExample(service: string): AnnexExample {
  const text = doc()
  if (text === undefined) throw new Error('pr-mserv is not available')
  const start = text.search(new RegExp(`^### A\\.\\d+ ${service}\\s*$`, 'm'))
  if (start < 0) throw new Error(`Annex A has no ${service}`)
  const rest = text.slice(start + 4)
  const end = rest.search(/^##/m)
  const section = end < 0 ? rest : rest.slice(0, end)
  const blocks = [...section.matchAll(/```xml\n([\s\S]*?)```/g)].map((m) => m[1] as string)
  if (blocks.length < 2) throw new Error(`Annex A ${service} lacks its examples`)
  return { request: blocks[0] as string, response: blocks[1] as string }
}

/** The SOAP envelope inside an example (the multipart examples wrap it in MIME parts). */
export function envelopeOf(example: string): string {
  const from = example.indexOf('<?xml')
  const to = example.indexOf('</SOAP-ENV:Envelope>') + '</SOAP-ENV:Envelope>'.length
  return example.slice(from, to)
}

/** The MIME parts after the SOAP part of a multipart example: their headers, in order. */
export function exampleAttachmentHeaders(example: string): string[][] {
  const lines = example.split('\n')
  const boundary = (lines.find((l) => l.startsWith('--')) ?? '').trim()
  const parts = example.split(boundary).slice(1).filter((p) => !p.startsWith('--'))
  return parts.slice(1).map((p) => p.split('\n').map((l) => l.trim()).filter((l) => /^[A-Za-z-]+: /.test(l)))
}

/** Annex B's WSDL text. */
export function annexBWsdl(): string {
  const text = doc()
  if (text === undefined) throw new Error('pr-mserv is not available')
  const start = text.indexOf('## Annex B')
  const m = /```xml\n([\s\S]*?)```/.exec(text.slice(start))
  if (m === null) throw new Error('Annex B has no WSDL')
  return m[1] as string
}
