import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import type {
  AnchorFileDto, AnchorPreview, CertificateDto, CsrDto, GeneratedCsrDto, GlobalConfStatus, KeyDto, TimestampingServicesDto,
} from '@shared/admin-api/admin-api'
import { createSecurityServer, parseServerConfig, type SecurityServer } from '../../src-main/server'
import { silentLogger } from '../../src-main/platform'
import { anchorHash } from '../../src-main/global-conf'
import { initLab, openLab, startLabServer, type RunningLabServer } from '../../src-main/lab'

/**
 * Safety on the keys page and the global-configuration tasks, through `admin.call` on a server joined to a lab:
 * deleting a key or certificate in use is refused with the reason, CSRs are listed and deleted, certificate import
 * faults name the field; the anchor is downloaded, re-imported (same instance only, hash confirmed, download verified);
 * time-stamping services are chosen among the approved ones.
 */
const PIN = 'Token-PIN-9753'
const caller = { actor: 'tester', roles: ADMIN_ROLES }

let dir: string
let lab: RunningLabServer
let server: SecurityServer
let anchorXml: string

type Failure = { code: string; detail?: string; message: string }

async function call<T>(domain: string, method: string, ...args: unknown[]): Promise<T> {
  const result = (await server.admin.call(caller, domain, method, args)) as IpcResult<T>
  if (!result.ok) throw new Error(`${domain}.${method}: ${result.error.code} ${result.error.message}`)
  return result.value
}

async function failure(domain: string, method: string, ...args: unknown[]): Promise<Failure> {
  const result = await server.admin.call(caller, domain, method, args)
  expect(result.ok, `${domain}.${method} should fail`).toBe(false)
  return result.ok ? { code: '', message: '' } : result.error
}

async function signingCertificate(label: string): Promise<{ key: KeyDto; pem: string }> {
  const key = await call<KeyDto>('keys', 'generate', { tokenId: '0', usage: 'sign', algorithm: 'ec-p256', label })
  const [ca] = await call<Array<{ name: string }>>('csrs', 'authorities')
  const csr = await call<GeneratedCsrDto>('csrs', 'generate', { keyId: key.id, caName: ca?.name, format: 'pem' })
  const authority = openLab(join(dir, 'lab'))
  try {
    return { key, pem: (await authority.issueCertificate(csr.content, 'sign')).pem }
  } finally {
    authority.close()
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-anchor-'))
  await initLab(join(dir, 'lab'), { keyAlgorithm: 'ec-p256' })
  const authority = openLab(join(dir, 'lab'))
  authority.addMember(memberId('LAB', 'GOV', '1234'), 'Agency', 'SUB')
  authority.close()
  lab = await startLabServer(join(dir, 'lab'), { ports: { ocsp: 0, tsa: 0, conf: 0 }, confExpireSeconds: 600 })
  anchorXml = readFileSync(lab.anchor, 'utf8')
  const config = parseServerConfig({ internal: { adminPort: null, clientProxyHttpPort: null, clientProxyHttpsPort: null }, external: { serverProxyPort: null, ocspResponderPort: null }, shutdownGraceMs: 100 }, 'test')
  server = createSecurityServer({ dataDir: join(dir, 'data'), config, logger: silentLogger() })
  await server.start()
  await call('initialization', 'initialize', { anchorXml, confirmedHash: anchorHash(anchorXml), owner: 'LAB/GOV/1234', serverCode: 'SS1', softwareTokenPin: PIN })
  for (let i = 0; i < 100 && !(await call<GlobalConfStatus>('globalConf', 'status')).available; i++) await new Promise((r) => setTimeout(r, 100))
  await call('tokens', 'login', { tokenId: '0', pin: PIN })
}, 60_000)

afterAll(async () => {
  await server?.stop()
  await lab?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('keys and certificates in use are not deleted', () => {
  it('lists the CSRs made here and deletes one', async () => {
    const { key } = await signingCertificate('csr only')
    const csrs = await call<CsrDto[]>('csrs', 'list')
    const mine = csrs.filter((c) => c.keyId === key.id)
    expect(mine).toEqual([expect.objectContaining({ keyId: key.id, subjectOf: 'MEMBER:LAB/GOV/1234' })])
    expect(mine[0]?.subject).toContain('1234')
    await call('csrs', 'delete', { csrId: mine[0]?.id })
    expect((await call<CsrDto[]>('csrs', 'list')).some((c) => c.keyId === key.id)).toBe(false)
    expect((await failure('csrs', 'delete', { csrId: mine[0]?.id })).code).toBe('csr_not_found')
    await call('keys', 'delete', { keyId: key.id })
  })

  it('shows a certificate file fault at the form field', async () => {
    expect(await failure('certificates', 'import', { content: 'not a certificate' })).toMatchObject({ code: 'incorrect_certificate', detail: 'content' })
    const foreign = readFileSync(join(dir, 'lab', 'tsa.pem'), 'utf8')
    expect(await failure('certificates', 'import', { content: foreign })).toMatchObject({ code: 'key_not_found', detail: 'content' })
    expect(await failure('certificates', 'import', { content: foreign, member: 'LAB/GOV' })).toMatchObject({ code: 'validation_failed', detail: 'member' })
  })

  it('refuses deleting a key or certificate while the certificate is active, saying why; allows it once disabled', async () => {
    const { key, pem } = await signingCertificate('signing in use')
    const cert = await call<CertificateDto>('certificates', 'import', { content: pem })
    await call('certificates', 'activate', { certId: cert.id })
    const keyRefusal = await failure('keys', 'delete', { keyId: key.id })
    expect(keyRefusal).toMatchObject({ code: 'conflict', detail: 'activeCertificate' })
    expect(keyRefusal.message).toContain('disable it first')
    expect((await call<KeyDto[]>('keys', 'list')).find((k) => k.id === key.id)?.certificateCount).toBe(1)
    expect(await failure('certificates', 'delete', { certId: cert.id })).toMatchObject({ code: 'conflict', detail: 'activeCertificate' })
    expect((await call<CertificateDto[]>('certificates', 'list')).map((c) => c.id)).toContain(cert.id)

    await call('certificates', 'disable', { certId: cert.id })
    // An OCSP answer arriving after the deletion is dropped, not written for a certificate that is gone.
    const pendingOcsp = server.core.signer.refreshOcsp([cert.id])
    await call('certificates', 'delete', { certId: cert.id })
    await expect(pendingOcsp).resolves.toHaveLength(1)
    expect((await call<CertificateDto[]>('certificates', 'list')).map((c) => c.id)).not.toContain(cert.id)
    expect((await call<KeyDto[]>('keys', 'list')).find((k) => k.id === key.id)?.certificateCount).toBe(0)
    expect((await failure('certificates', 'delete', { certId: cert.id })).code).toBe('cert_not_found')

    // A certificate registered at the central server counts as in use too.
    const again = await call<CertificateDto>('certificates', 'import', { content: pem })
    server.core.signer.setCertificateState(again.id, 'registered')
    expect(await failure('keys', 'delete', { keyId: key.id })).toMatchObject({ code: 'conflict', detail: 'activeCertificate' })
    await call('certificates', 'disable', { certId: again.id })
    await call('keys', 'delete', { keyId: key.id })
    expect((await call<KeyDto[]>('keys', 'list')).map((k) => k.id)).not.toContain(key.id)
    expect((await call<CertificateDto[]>('certificates', 'list')).map((c) => c.id)).not.toContain(again.id)
    expect((await call<CsrDto[]>('csrs', 'list')).some((c) => c.keyId === key.id)).toBe(false)

    const audit = (await server.admin.audit.search({ event: 'keys.delete' })).map((e) => `${e.outcome} ${e.errorCode ?? ''}`.trim())
    expect(audit).toEqual(expect.arrayContaining(['failure conflict', 'success']))
  })
})

describe('configuration anchor', () => {
  it('downloads the anchor in force under X-Road\'s file name', async () => {
    const anchor = await call<AnchorFileDto>('globalConf', 'anchor')
    expect(anchor).toMatchObject({ instance: 'LAB', hash: anchorHash(anchorXml), content: anchorXml })
    expect(anchor.fileName).toMatch(/^configuration_anchor_UTC_\d{4}-\d\d-\d\d_\d\d_\d\d_\d\d\.xml$/)
  })

  it('refuses an anchor of another instance, a malformed one, an unconfirmed hash and one whose configuration cannot be downloaded', async () => {
    await initLab(join(dir, 'other'), { instance: 'OTHER', keyAlgorithm: 'ec-p256' })
    const other = readFileSync(join(dir, 'other', 'anchor.xml'), 'utf8')
    const otherInstance = await failure('globalConf', 'previewAnchor', { anchorXml: other })
    expect(otherInstance).toMatchObject({ code: 'validation_failed', detail: 'anchorXml' })
    expect(otherInstance.message).toContain('instance OTHER')
    expect(await failure('globalConf', 'replaceAnchor', { anchorXml: other, confirmedHash: anchorHash(other) })).toMatchObject({ detail: 'anchorXml' })
    expect((await failure('globalConf', 'previewAnchor', { anchorXml: '<configurationAnchor/>' })).code).toBe('malformed_anchor')

    const unreachable = anchorXml.replace(/<downloadURL>[^<]*<\/downloadURL>/, '<downloadURL>http://127.0.0.1:1/internalconf</downloadURL>')
    expect((await call<AnchorPreview>('globalConf', 'previewAnchor', { anchorXml: unreachable })).hash).toBe(anchorHash(unreachable))
    expect(await failure('globalConf', 'replaceAnchor', { anchorXml: unreachable, confirmedHash: anchorHash(anchorXml) })).toMatchObject({ code: 'validation_failed', detail: 'confirmedHash' })
    const notVerified = await failure('globalConf', 'replaceAnchor', { anchorXml: unreachable, confirmedHash: anchorHash(unreachable) })
    expect(notVerified.detail).toBe('anchorXml')
    expect(notVerified.message).toContain('could not be downloaded and verified')
    expect((await call<AnchorFileDto>('globalConf', 'anchor')).hash).toBe(anchorHash(anchorXml))
  })

  it('re-imports a newer anchor of the same instance and restarts the download from it', async () => {
    const newer = anchorXml.replace(/<generatedAt>[^<]*<\/generatedAt>/, `<generatedAt>${new Date(Date.now() + 60_000).toISOString()}</generatedAt>`)
    expect(anchorHash(newer)).not.toBe(anchorHash(anchorXml))
    const preview = await call<AnchorPreview>('globalConf', 'previewAnchor', { anchorXml: newer })
    expect(preview).toMatchObject({ instance: 'LAB', hash: anchorHash(newer) })
    const serviceBefore = server.core.globalConf.service()
    const status = await call<GlobalConfStatus>('globalConf', 'replaceAnchor', { anchorXml: newer, confirmedHash: preview.hash.toLowerCase() })
    expect(status).toMatchObject({ anchorImported: true, anchorHash: anchorHash(newer), available: true, instance: 'LAB' })
    expect(server.core.globalConf.service()).not.toBe(serviceBefore)
    expect((await call<AnchorFileDto>('globalConf', 'anchor')).content).toBe(newer)
    const events = (await server.admin.audit.search({ event: 'globalConf.replaceAnchor' })).map((e) => e.outcome)
    expect(events).toEqual(['success', 'failure', 'failure', 'failure'])
  })
})

describe('time-stamping services', () => {
  it('lists the approved TSAs with their URLs, and uses the chosen ones from the next round', async () => {
    const initial = await call<TimestampingServicesDto>('globalConf', 'timestampingServices')
    expect(initial.available).toBe(true)
    expect(initial.approved).toEqual([{ name: 'Gatehouse Lab TSA LAB', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+/) }])
    expect(initial).toMatchObject({ selected: [], inUse: ['Gatehouse Lab TSA LAB'] })
    expect(await failure('globalConf', 'selectTimestampingServices', { names: ['Somebody Else TSA'] })).toMatchObject({ code: 'validation_failed', detail: 'names' })
    expect(await failure('globalConf', 'selectTimestampingServices', { names: ['Gatehouse Lab TSA LAB', 'Gatehouse Lab TSA LAB'] })).toMatchObject({ code: 'validation_failed', detail: 'names' })
    const chosen = await call<TimestampingServicesDto>('globalConf', 'selectTimestampingServices', { names: ['Gatehouse Lab TSA LAB'] })
    expect(chosen).toMatchObject({ selected: ['Gatehouse Lab TSA LAB'], inUse: ['Gatehouse Lab TSA LAB'] })
    // What the message log's time-stamper reads at every round.
    expect(server.core.timestampingServices().map((t) => t.url)).toEqual([initial.approved[0]?.url])
    expect(await call<TimestampingServicesDto>('globalConf', 'selectTimestampingServices', { names: [] })).toMatchObject({ selected: [], inUse: ['Gatehouse Lab TSA LAB'] })
  })
})
