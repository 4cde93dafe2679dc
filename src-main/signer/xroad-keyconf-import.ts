import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type Forge from 'node-forge'
import { identifierFromXml, type ClientId } from '@shared/domain/identifiers'
import type { Element } from '@xmldom/xmldom'
import { SecurityServerError, childElements, clientError, identifierFields, lazyModule, optionalChild, parseXml, textOf } from '../platform'
import type { CertificateState, KeyInfo, Signer } from './signer'
import type { KeyUsage } from './token-driver'

/**
 * Migration from an X-Road security server's software token (X-Road signer's `keyconf.xml`, keyconf.xsd, and the
 * token directory `/etc/xroad/signer/softtoken` with one PKCS#12 file per key, `{keyId}.p12`, protected by the token
 * PIN): each software-token key with a usage is read from its `.p12`, checked against the public key keyconf lists,
 * imported into one of our tokens under the same key id (lower-case hex), and its certificates are imported with their
 * member and a state mapped from X-Road's.
 *
 * What cannot be migrated, and is reported instead of imported: keys on hardware (PKCS#11) devices — they stay on
 * their device, which is added here as a PKCS#11 token (`gatehouse token add-pkcs11`); keys without a usage; keys
 * whose `.p12` is missing or does not match; EC keys in `.p12` files (the PKCS#12 reader handles RSA only);
 * certificate requests (`certRequest`: make new ones); X-Road's token PIN file `.softtoken.p12` (our token keeps its
 * own PIN); certificates in X-Road's transient states, which are imported as `saved` with the reason.
 *
 * Complexity: keyconf.xml goes through the hardened XML parser (its limits); one `.p12` read per key (each at most
 * {@link MAX_P12_BYTES}).
 */
export const MAX_P12_BYTES = 64 * 1024

export interface XroadKeyConfCert {
  readonly id?: string
  readonly active: boolean
  readonly status: string
  readonly memberId?: ClientId
  readonly der: Buffer
}

export interface XroadKeyConfKey {
  readonly deviceId: string
  readonly deviceType: string
  readonly keyId: string
  readonly usage?: KeyUsage
  readonly label: string
  readonly publicKeyDer?: Buffer
  readonly certs: readonly XroadKeyConfCert[]
  readonly certRequests: number
}

/** Reads X-Road's keyconf.xml (keyconf.xsd: `keyConf/device/key/cert|certRequest`). */
export function parseXroadKeyConf(xml: Uint8Array): XroadKeyConfKey[] {
  const doc = parseXml(xml, { maxBytes: 4 * 1024 * 1024 })
  const root = doc.documentElement as unknown as Element
  if (root.localName !== 'keyConf') throw clientError('invalid_xml', `Not an X-Road keyconf.xml (root element ${String(root.localName).slice(0, 40)})`)
  const keys: XroadKeyConfKey[] = []
  for (const device of childElements(root, null, 'device')) {
    const deviceId = text(device, 'id') ?? ''
    const deviceType = text(device, 'deviceType') ?? ''
    for (const key of childElements(device, null, 'key')) {
      const keyId = text(key, 'keyId')
      if (keyId === undefined || keyId === '') throw clientError('invalid_xml', 'A key in keyconf.xml has no keyId')
      const usageAttr = key.getAttribute('usage')
      const usage: KeyUsage | undefined = usageAttr === 'SIGNING' ? 'sign' : usageAttr === 'AUTHENTICATION' ? 'auth' : undefined
      const publicKey = text(key, 'publicKey')
      keys.push({
        deviceId, deviceType, keyId, label: text(key, 'label') || text(key, 'friendlyName') || keyId,
        ...(usage === undefined ? {} : { usage }),
        ...(publicKey === undefined || publicKey === '' ? {} : { publicKeyDer: Buffer.from(publicKey.replace(/\s+/g, ''), 'base64') }),
        certs: childElements(key, null, 'cert').map(readCert),
        certRequests: childElements(key, null, 'certRequest').length,
      })
    }
  }
  return keys
}

function readCert(el: Element): XroadKeyConfCert {
  const contents = text(el, 'contents')
  if (contents === undefined || contents === '') throw clientError('invalid_xml', 'A certificate in keyconf.xml has no contents')
  const member = optionalChild(el, null, 'memberId')
  let memberId: ClientId | undefined
  if (member !== undefined) {
    try {
      memberId = identifierFromXml(identifierFields(member), ['MEMBER', 'SUBSYSTEM']) as ClientId
    } catch (cause) {
      throw clientError('invalid_xml', `A certificate's memberId in keyconf.xml is invalid: ${(cause as Error).message}`, { cause })
    }
  }
  const id = el.getAttribute('id')
  return {
    ...(id === null || id === '' ? {} : { id }), active: el.getAttribute('active') === 'true', status: text(el, 'status') ?? '',
    ...(memberId === undefined ? {} : { memberId }), der: Buffer.from(contents.replace(/\s+/g, ''), 'base64'),
  }
}

function text(el: Element, name: string): string | undefined {
  const child = optionalChild(el, null, name)
  return child === undefined ? undefined : textOf(child).trim()
}

/**
 * node-forge, loaded at the first `.p12` read rather than with the module: every server would otherwise hold it
 * (about 1.6 MB of heap and 8 MB of resident memory measured alone) for a migration it makes once, if ever.
 */
const nodeForge = lazyModule<typeof Forge>('node-forge')

/** The private key (PKCS#8 DER) in an X-Road soft-token `.p12`. */
export function readXroadP12(der: Uint8Array, password: string): Buffer {
  const forge = nodeForge()
  let p12: Forge.pkcs12.Pkcs12Pfx
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString('binary'))), password)
  } catch (cause) {
    throw clientError('pin_incorrect', 'The PKCS#12 file cannot be opened with this PIN (or it is not PKCS#12, or its key is not RSA)', { cause })
  }
  const shrouded = forge.pki.oids.pkcs8ShroudedKeyBag as string
  const plain = forge.pki.oids.keyBag as string
  const bags = [...(p12.getBags({ bagType: shrouded })[shrouded] ?? []), ...(p12.getBags({ bagType: plain })[plain] ?? [])]
  const key = bags.find((b) => b.key !== undefined)?.key
  if (key === undefined) throw clientError('key_not_found', 'The PKCS#12 file holds no RSA private key')
  const info = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key))
  return Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary')
}

export interface XroadKeyConfImportOptions {
  readonly keyconf: Uint8Array
  /** X-Road's token directory (`/etc/xroad/signer/softtoken`). */
  readonly tokenDir: string
  /** X-Road's software-token PIN (the `.p12` password). */
  readonly xroadPin: string
  /** Our token the keys go to (logged in). */
  readonly tokenId: string
  /** Approved CA certificates, for the certificate chains (from global configuration), when known. */
  readonly approvedCaCertificates?: readonly Uint8Array[]
}

export interface XroadKeyConfImportReport {
  readonly imported: ReadonlyArray<{
    readonly key: KeyInfo
    readonly certificates: ReadonlyArray<{ readonly id: string; readonly state: CertificateState; readonly xroadStatus: string; readonly note?: string }>
  }>
  readonly notMigrated: ReadonlyArray<{ readonly what: string; readonly reason: string }>
}

/** X-Road certificate status → ours (CertificateInfo.STATUS_*; `active` is X-Road's separate flag). */
function stateFor(cert: XroadKeyConfCert, usage: KeyUsage): { state: 'saved' | 'registered' | 'active' | 'disabled'; note?: string } {
  if (usage === 'sign') return cert.active ? { state: 'active' } : { state: 'disabled' }
  switch (cert.status) {
    case 'registered': return cert.active ? { state: 'registered' } : { state: 'disabled' }
    case 'saved': return { state: 'saved' }
    case 'registration in progress': return { state: 'saved', note: 'registration was in progress on the X-Road server: it becomes registered when global configuration lists it' }
    case 'deletion in progress': return { state: 'disabled', note: 'deletion was in progress on the X-Road server' }
    default: return { state: 'saved', note: `X-Road status '${cert.status.slice(0, 40)}' has no equivalent; imported as saved` }
  }
}

export async function importXroadKeyConf(signer: Pick<Signer, 'importKey' | 'importCertificate' | 'setCertificateState' | 'listKeys'>, options: XroadKeyConfImportOptions): Promise<XroadKeyConfImportReport> {
  const keys = parseXroadKeyConf(options.keyconf)
  const imported: Array<XroadKeyConfImportReport['imported'][number]> = []
  const notMigrated: Array<{ what: string; reason: string }> = []
  const hasTokenPin = existsSync(join(options.tokenDir, '.softtoken.p12'))
  notMigrated.push({ what: 'X-Road token PIN file .softtoken.p12', reason: hasTokenPin ? 'our token keeps its own PIN; set it with `gatehouse token change-pin`' : 'not present' })
  for (const key of keys) {
    const what = `key ${key.keyId} (${key.label})`
    if (key.deviceType !== 'softToken') {
      notMigrated.push({ what, reason: `on hardware device '${key.deviceType}' (id ${key.deviceId}): the key stays on its device; add that device as a PKCS#11 token` })
      continue
    }
    if (key.usage === undefined) {
      notMigrated.push({ what, reason: 'the key has no usage yet (no certificate request made on the X-Road server)' })
      continue
    }
    if (key.certRequests > 0) notMigrated.push({ what: `${key.certRequests} certificate request(s) of ${what}`, reason: 'requests are not carried over; make a new one if a certificate is still awaited' })
    const file = join(options.tokenDir, `${key.keyId}.p12`)
    if (!existsSync(file)) {
      notMigrated.push({ what, reason: `${file} is missing` })
      continue
    }
    const p12 = readFileSync(file)
    if (p12.byteLength > MAX_P12_BYTES) throw clientError('invalid_request', `${file} is larger than ${MAX_P12_BYTES} bytes`)
    let pkcs8: Buffer
    try {
      pkcs8 = readXroadP12(p12, options.xroadPin)
    } catch (error) {
      if (error instanceof SecurityServerError && error.code === 'pin_incorrect') throw error
      notMigrated.push({ what, reason: (error as Error).message })
      continue
    }
    if (signer.listKeys().some((k) => k.id === key.keyId.toLowerCase())) {
      notMigrated.push({ what, reason: 'a key with this id is in the key configuration already' })
      continue
    }
    const info = await signer.importKey({ tokenId: options.tokenId, usage: key.usage, label: key.label, pkcs8, keyId: key.keyId })
    pkcs8.fill(0)
    if (key.publicKeyDer !== undefined && !info.publicKeyDer.equals(key.publicKeyDer)) {
      notMigrated.push({ what, reason: 'WARNING: the public key in keyconf.xml differs from the key in the .p12 file; the .p12 key was imported' })
    }
    const certificates: Array<{ id: string; state: CertificateState; xroadStatus: string; note?: string }> = []
    for (const cert of key.certs) {
      const imp = await signer.importCertificate(cert.der, {
        ...(cert.memberId === undefined ? {} : { memberId: cert.memberId }),
        ...(options.approvedCaCertificates === undefined ? {} : { approvedCaCertificates: options.approvedCaCertificates }),
      })
      const target = stateFor(cert, key.usage)
      if (target.state !== 'saved') signer.setCertificateState(imp.id, target.state)
      certificates.push({ id: imp.id, state: target.state, xroadStatus: cert.status, ...(target.note === undefined ? {} : { note: target.note }) })
    }
    imported.push({ key: info, certificates })
  }
  return { imported, notMigrated }
}
