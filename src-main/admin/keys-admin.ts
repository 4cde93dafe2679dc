import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { memberOf, type ClientId, type MemberId, type SecurityServerId } from '@shared/domain/identifiers'
import {
  KEY_ALGORITHM_VALUES, KEY_USAGE_VALUES,
  type CertificateAuthorityDto, type CertificateDto, type CertificatesApi, type CsrDto, type CsrsApi, type KeyDto, type KeysApi, type Pkcs11ModulePreset,
  type TokenDto, type TokenState, type TokensApi,
} from '@shared/admin-api/admin-api'
import pkcs11Presets from '../../resources/pkcs11-modules.json'
import { SecurityServerError, clientError, type Clock } from '../platform'
import type { CertificateInfo, CsrInfo, KeyInfo, TokenInfo } from '../signer'
import { validate } from './admin-validation'
import { encodeId, parseClientRef, type DomainsOf } from './domain-support'

/**
 * Tokens, keys, CSRs and own certificates (UG-SS §4–5, X-Road's "Keys and certificates" view). PINs are
 * handed to the signer and nowhere else: the dispatcher never logs or audits arguments.
 */
const tokenId = z.string().min(1, 'give the token').max(100)
const pin = z.string().min(1, 'give the PIN').max(512)
const id = z.string().min(1).max(200)

export function tokenState(t: Pick<TokenInfo, 'initialized' | 'available' | 'pinLocked' | 'loggedIn'>): TokenState {
  if (!t.available) return 'not-available'
  if (!t.initialized) return 'not-initialized'
  if (t.pinLocked) return 'locked'
  return t.loggedIn ? 'logged-in' : 'logged-out'
}

export function createTokensAdmin(domains: DomainsOf): TokensApi {
  const toDto = (t: TokenInfo, keys: readonly KeyInfo[]): TokenDto => ({
    id: t.id, kind: t.kind, label: t.label, serialNumber: t.serialNumber, state: tokenState(t), available: t.available, loggedIn: t.loggedIn,
    pinCountLow: t.pinCountLow, pinFinalTry: t.pinFinalTry, pinLocked: t.pinLocked, manufacturer: t.manufacturer ?? null, model: t.model ?? null,
    keyCount: keys.filter((k) => k.tokenId === t.id).length,
  })
  const one = async (wanted: string): Promise<TokenDto> => {
    const { signer } = domains()
    const token = (await signer.listTokens()).find((t) => t.id === wanted)
    if (token === undefined) throw clientError('token_not_found', `Token ${wanted} is not configured`)
    return toDto(token, signer.listKeys())
  }
  return {
    async list() {
      const { signer } = domains()
      const keys = signer.listKeys()
      return (await signer.listTokens()).map((t) => toDto(t, keys))
    },
    async login(input) {
      const value = validate(z.object({ tokenId, pin }).strict(), input, 'token login')
      await one(value.tokenId)
      await domains().signer.login(value.tokenId, value.pin)
      return one(value.tokenId)
    },
    async logout(input) {
      const value = validate(z.object({ tokenId }).strict(), input, 'token logout')
      await one(value.tokenId)
      await domains().signer.logout(value.tokenId)
      return one(value.tokenId)
    },
    async changePin(input) {
      const value = validate(z.object({ tokenId, oldPin: pin, newPin: pin }).strict(), input, 'PIN change')
      await one(value.tokenId)
      await domains().signer.changePin(value.tokenId, value.oldPin, value.newPin)
    },
    async hsmModules() {
      return installedPkcs11Modules()
    },
    async addHsm(input) {
      const value = validate(
        z.object({
          modulePath: z.string().trim().min(1, 'choose or type the module path').max(1024).refine(isAbsolute, 'give the full path of the module library'),
          tokenLabel: z.string().trim().min(1, 'give the token label').max(32, 'a PKCS#11 token label has at most 32 characters'),
        }).strict(),
        input, 'PKCS#11 token',
      )
      if (!isFile(value.modulePath)) {
        throw clientError('validation_failed', `There is no module library at ${value.modulePath}; install the vendor's PKCS#11 package or correct the path`, { detail: 'modulePath' })
      }
      const { signer } = domains()
      const taken = (await signer.listTokens()).find((t) => t.kind === 'pkcs11' && t.modulePath === value.modulePath && t.label === value.tokenLabel)
      if (taken !== undefined) throw clientError('conflict', `Token ${value.tokenLabel} on ${value.modulePath} is configured already`, { detail: 'tokenLabel' })
      const added = await signer.addPkcs11Token(value.modulePath, { label: value.tokenLabel })
      return one(added.id)
    },
  }
}

const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile()

/** The presets of resources/pkcs11-modules.json installed here; one entry per library file (OpenSC serves two presets). */
export function installedPkcs11Modules(exists: (path: string) => boolean = isFile): Pkcs11ModulePreset[] {
  const seen = new Set<string>()
  const found: Pkcs11ModulePreset[] = []
  for (const preset of pkcs11Presets.modules) {
    const path = preset.paths.find(exists)
    if (path === undefined || seen.has(path)) continue
    seen.add(path)
    found.push({ id: preset.id, name: preset.name, path })
  }
  return found
}

const spkiHash = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex')

export function createKeysAdmin(domains: DomainsOf): KeysApi {
  const toDto = (k: KeyInfo, certs: readonly CertificateInfo[]): KeyDto => ({
    id: k.id, tokenId: k.tokenId, label: k.label, usage: k.usage, algorithm: k.algorithm, createdAt: k.createdAt,
    publicKeySha256: spkiHash(k.publicKeyDer), certificateCount: certs.filter((c) => c.keyId === k.id).length,
  })
  return {
    async list() {
      const { signer } = domains()
      const certs = signer.listCertificates()
      return signer.listKeys().map((k) => toDto(k, certs))
    },
    async generate(input) {
      const value = validate(
        z.object({ tokenId, usage: z.enum(KEY_USAGE_VALUES), algorithm: z.enum(KEY_ALGORITHM_VALUES), label: z.string().trim().min(1, 'give the key a label').max(255) }).strict(),
        input, 'key',
      )
      const { signer } = domains()
      const token = (await signer.listTokens()).find((t) => t.id === value.tokenId)
      if (token === undefined) throw clientError('token_not_found', `Token ${value.tokenId} is not configured`)
      if (!token.loggedIn) throw clientError('token_not_active', `Log in to token ${token.label || token.id} before generating a key`)
      return toDto(await signer.generateKey(value), [])
    },
    async delete(input) {
      const value = validate(z.object({ keyId: id }).strict(), input, 'key')
      await domains().signer.deleteKey(value.keyId)
    },
  }
}

export function createCsrsAdmin(domains: DomainsOf, clock: Clock): CsrsApi {
  const authorities = (): CertificateAuthorityDto[] => {
    const conf = domains().globalConf.current()
    if (conf === undefined) return []
    return conf.getApprovedCas().map((ca) => ({
      name: ca.name,
      authenticationOnly: ca.authenticationOnly,
      certificateProfile: ca.certificateProfileInfo,
      defaultCsrFormat: ca.defaultCsrFormat === 'DER' ? 'der' : 'pem',
    }))
  }
  return {
    async authorities() {
      return authorities()
    },
    async generate(input) {
      const value = validate(
        z.object({ keyId: id, caName: z.string().min(1, 'choose the certification authority').max(255), member: z.string().max(1000).optional(), format: z.enum(['pem', 'der']).optional() }).strict(),
        input, 'certificate request',
      )
      const { signer, serverConf, globalConf } = domains()
      const conf = globalConf.current()
      if (conf === undefined) throw clientError('not_initialized', 'No global configuration yet: the approved certification authorities are not known. Wait for the download, then try again')
      const ca = authorities().find((a) => a.name === value.caName)
      if (ca === undefined) throw clientError('not_found', `${value.caName} is not an approved certification authority of ${conf.instanceIdentifier}`, { detail: 'caName' })
      const key = signer.listKeys().find((k) => k.id === value.keyId)
      if (key === undefined) throw clientError('key_not_found', `Key ${value.keyId} is not in the key configuration`)
      const identity = serverConf.identity()
      let subjectOf: MemberId | SecurityServerId
      if (key.usage === 'auth') {
        if (identity === undefined) throw clientError('not_initialized', 'Initialize the security server first: an authentication CSR names this server')
        subjectOf = identity.serverId
      } else {
        if (ca.authenticationOnly) throw clientError('validation_failed', `${ca.name} issues authentication certificates only`, { detail: 'caName' })
        const member: ClientId | undefined = value.member !== undefined ? parseClientRef(value.member, 'member') : identity?.owner
        if (member === undefined) throw clientError('validation_failed', 'Give the member the signing certificate is for', { detail: 'member' })
        subjectOf = memberOf(member)
      }
      const owner = subjectOf.objectType === 'SERVER' ? memberOf(subjectOf) : subjectOf
      const format = value.format ?? ca.defaultCsrFormat
      const csr = await signer.generateCsr({
        keyId: key.id, subjectOf, certificateProfile: ca.certificateProfile, format,
        subjectOptions: {
          ...(conf.getMemberName(owner) === undefined ? {} : { memberName: conf.getMemberName(owner) }),
          ...(identity === undefined ? {} : { serverCode: identity.serverId.serverCode }),
        },
      })
      const stamp = clock.now().toISOString().slice(0, 10).replace(/-/g, '')
      const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_')
      return {
        id: csr.id,
        subject: csr.subject,
        format,
        fileName: `${key.usage}_csr_${safe(owner.memberCode)}_${stamp}.${format}`,
        mimeType: format === 'pem' ? 'application/x-pem-file' : 'application/pkcs10',
        content: format === 'pem' ? csr.encoded.toString('utf8') : csr.encoded.toString('base64'),
        encoding: format === 'pem' ? 'utf8' : 'base64',
      }
    },
    async list() {
      return domains().signer.listCsrs().map(csrDto)
    },
    async delete(input) {
      const value = validate(z.object({ csrId: id }).strict(), input, 'certificate request')
      domains().signer.deleteCsr(value.csrId)
    },
  }
}

const csrDto = (c: CsrInfo): CsrDto => ({
  id: c.id, keyId: c.keyId, subject: c.subject, createdAt: c.createdAt, subjectOf: c.subjectOf === undefined ? null : encodeId(c.subjectOf),
})

const DAY_MS = 86_400_000

export function createCertificatesAdmin(domains: DomainsOf, clock: Clock): CertificatesApi {
  const toDto = (c: CertificateInfo, keys: readonly KeyInfo[]): CertificateDto => {
    const key = keys.find((k) => k.id === c.keyId)
    const ocsp = domains().signer.ocspStatus(c.id)
    return {
      id: c.id, keyId: c.keyId, usage: key?.usage ?? null, tokenId: key?.tokenId ?? null, member: c.memberId === undefined ? null : encodeId(c.memberId),
      subject: c.subject, issuer: c.issuer, serialNumber: c.serialNumber, notBefore: c.notBefore, notAfter: c.notAfter, state: c.state,
      daysLeft: Math.floor((new Date(c.notAfter).getTime() - clock.now().getTime()) / DAY_MS),
      ocsp: { status: ocsp.status, thisUpdate: ocsp.thisUpdate ?? null, nextUpdate: ocsp.nextUpdate ?? null, lastError: ocsp.lastError ?? null },
    }
  }
  const one = (certId: string): CertificateDto => {
    const { signer } = domains()
    const cert = signer.listCertificates().find((c) => c.id === certId)
    if (cert === undefined) throw clientError('cert_not_found', `Certificate ${certId} is not in the key configuration`)
    return toDto(cert, signer.listKeys())
  }
  return {
    async list() {
      const { signer } = domains()
      const keys = signer.listKeys()
      return signer.listCertificates().map((c) => toDto(c, keys))
    },
    async import(input) {
      const value = validate(
        z.object({ content: z.string().min(1, 'choose the certificate file').max(256 * 1024), encoding: z.enum(['utf8', 'base64']).optional(), member: z.string().max(1000).optional() }).strict(),
        input, 'certificate',
      )
      const { signer, serverConf, globalConf } = domains()
      const bytes = value.encoding === 'base64' ? Buffer.from(value.content, 'base64') : Buffer.from(value.content, 'utf8')
      if (bytes.length === 0) throw clientError('incorrect_certificate', 'The file is empty or not base64', { detail: 'content' })
      // Without a member named, the certificate belongs to the owner, for whom the wizard makes CSRs by default.
      const member = value.member !== undefined ? memberOf(parseClientRef(value.member, 'member')) : serverConf.identity()?.owner
      const conf = globalConf.current()
      let imported: CertificateInfo
      try {
        imported = await signer.importCertificate(bytes, {
          ...(member === undefined ? {} : { memberId: member }),
          ...(conf === undefined ? {} : { approvedCaCertificates: conf.getAllCaCerts() }),
        })
      } catch (error) {
        // Faults of the file are shown at the file's field (detail `content`).
        if (error instanceof SecurityServerError && (!error.clientFault || error.detail !== undefined)) throw error
        const code = error instanceof SecurityServerError ? error.code : 'incorrect_certificate'
        const message = error instanceof SecurityServerError ? error.message : `The file is not a certificate: ${(error as Error).message}`
        throw clientError(code, message, { cause: error, detail: 'content' })
      }
      const keys = signer.listKeys()
      return toDto(imported, keys)
    },
    async activate(input) {
      const value = validate(z.object({ certId: id }).strict(), input, 'certificate')
      domains().signer.activateCertificate(value.certId)
      return one(value.certId)
    },
    async disable(input) {
      const value = validate(z.object({ certId: id }).strict(), input, 'certificate')
      domains().signer.disableCertificate(value.certId)
      return one(value.certId)
    },
    async delete(input) {
      const value = validate(z.object({ certId: id }).strict(), input, 'certificate')
      domains().signer.deleteCertificate(value.certId)
    },
  }
}
