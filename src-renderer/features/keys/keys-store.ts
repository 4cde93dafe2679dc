import { create } from 'zustand'
import type {
  CertificateAuthorityDto, CertificateDto, CsrDto, GeneratedCsrDto, KeyAlgorithmValue, KeyDto, KeyUsageValue, Pkcs11ModulePreset, TokenDto,
} from '@shared/admin-api/admin-api'
import type { ManagementRequestDto } from '@shared/admin-api/management-api'
import { translate } from '../../i18n'
import { adminClient } from '../../lib/admin-client'
import { localizeError } from '../../lib/localized-error'

/**
 * Tokens, keys, certificates, certificate requests and the CSR wizard's authorities; each action reloads what it
 * changed. Deletions throw the refusal (in the reader's language) for the confirmation dialog to show; a certificate
 * import keeps its fault apart, for the import field.
 */
interface KeysState {
  tokens: TokenDto[]
  keys: KeyDto[]
  certificates: CertificateDto[]
  csrs: CsrDto[]
  /** Open management requests (authCertReg, authCertDeletion…), until global configuration confirms them. */
  requests: ManagementRequestDto[]
  /** The last request sent about an authentication certificate: which one, its subject and the central server's id. */
  notice: { kind: 'register' | 'unregister'; subject: string; requestId: number | null } | null
  authorities: CertificateAuthorityDto[]
  /** Known PKCS#11 modules installed on the server's machine. */
  pkcs11Modules: Pkcs11ModulePreset[]
  loading: boolean
  /** What a long operation is doing now (key generation on a slow HSM), for the progress display. */
  working: string | null
  error: unknown
  /** Why the last certificate import failed, shown at the import field. */
  importError: unknown
  load(): Promise<void>
  login(tokenId: string, pin: string): Promise<boolean>
  logout(tokenId: string): Promise<void>
  changePin(input: { tokenId: string; oldPin: string; newPin: string }): Promise<boolean>
  loadPkcs11Modules(): Promise<void>
  addPkcs11Token(input: { modulePath: string; tokenLabel: string }): Promise<TokenDto | null>
  generateKey(input: { tokenId: string; usage: KeyUsageValue; algorithm: KeyAlgorithmValue; label: string }): Promise<KeyDto | null>
  deleteKey(key: KeyDto): Promise<void>
  generateCsr(input: { keyId: string; caName: string; member?: string; format?: 'pem' | 'der' }): Promise<GeneratedCsrDto | null>
  deleteCsr(csrId: string): Promise<void>
  importCertificate(input: { content: string; encoding: 'utf8' | 'base64' }): Promise<CertificateDto | null>
  setCertificateActive(certId: string, active: boolean): Promise<void>
  deleteCertificate(certificate: CertificateDto): Promise<void>
  /** authCertReg to the central server with this server's address; throws the refusal for the form. */
  registerAuthCertificate(certificate: CertificateDto, address: string): Promise<void>
  /** authCertDeletion; throws the refusal for the confirmation dialog. */
  unregisterAuthCertificate(certificate: CertificateDto): Promise<void>
  clearNotice(): void
  clearError(): void
}

const inUse = (c: CertificateDto): boolean => c.state === 'active' || c.state === 'registered'

/** The open management request on an authentication certificate (subject `authcert:{sha256}`; the id is that hash). */
export function authCertRequestOf(requests: readonly ManagementRequestDto[], certificate: CertificateDto): ManagementRequestDto | undefined {
  return requests.find((r) => r.subject === `authcert:${certificate.id}` && r.status === 'SUBMITTED')
}

/** One certificate in words for a list: its subject and state. */
export function certificateWords(c: CertificateDto): string {
  return `${c.subject} (${translate(`keys:certState.${c.state}`)})`
}

/** The keys page's refusals in the reader's language; `key`/`certificate` is what the action was about. */
export function keysError(error: unknown, about: { key?: KeyDto; certificates?: readonly CertificateDto[]; certificate?: CertificateDto } = {}): unknown {
  return localizeError(error, (code, detail) => {
    const t = (key: string, options: Record<string, unknown> = {}): string => translate(`keys:refusals.${key}`, options)
    if (code === 'conflict' && detail === 'activeCertificate') {
      if (about.certificate !== undefined) return t('certificateInUse', { state: translate(`keys:certState.${about.certificate.state}`) })
      if (about.key !== undefined) {
        const list = (about.certificates ?? []).filter((c) => c.keyId === about.key?.id && inUse(c)).map(certificateWords).join('; ')
        return t('keyInUse', { label: about.key.label, list })
      }
    }
    if (detail !== 'content') return undefined
    if (code === 'incorrect_certificate') return t('incorrectCertificate')
    if (code === 'key_not_found') return t('noMatchingKey')
    if (code === 'cert_exists') return t('certExists')
    if (code === 'wrong_cert_usage') return t('wrongUsage')
    return undefined
  })
}

export const useKeysStore = create<KeysState>((set, get) => {
  const reload = async (): Promise<void> => {
    const client = adminClient()
    const [tokens, keys, certificates, authorities, csrs, requests] = await Promise.all([
      client.call('tokens', 'list'), client.call('keys', 'list'), client.call('certificates', 'list'), client.call('csrs', 'authorities'), client.call('csrs', 'list'),
      client.call('management', 'requests', { openOnly: true }),
    ])
    set({ tokens, keys, certificates, authorities, csrs, requests })
  }
  const run = async <T>(working: string | null, work: () => Promise<T>): Promise<T | null> => {
    set({ loading: true, working, error: null })
    try {
      const value = await work()
      set({ loading: false, working: null })
      return value
    } catch (error) {
      set({ error, loading: false, working: null })
      return null
    }
  }
  return {
    tokens: [], keys: [], certificates: [], csrs: [], requests: [], notice: null, authorities: [], pkcs11Modules: [], loading: false, working: null, error: null, importError: null,
    load: async () => {
      await run(null, reload)
    },
    login: async (tokenId, pin) =>
      (await run(translate('keys:working.login'), async () => {
        await adminClient().call('tokens', 'login', { tokenId, pin })
        await reload()
        return true
      })) === true,
    logout: async (tokenId) => {
      await run(null, async () => {
        await adminClient().call('tokens', 'logout', { tokenId })
        await reload()
      })
    },
    changePin: async (input) =>
      (await run(translate('keys:working.changePin'), async () => {
        await adminClient().call('tokens', 'changePin', input)
        await reload()
        return true
      })) === true,
    loadPkcs11Modules: async () => {
      await run(null, async () => set({ pkcs11Modules: await adminClient().call('tokens', 'hsmModules') }))
    },
    addPkcs11Token: (input) =>
      run(translate('keys:working.addToken'), async () => {
        const token = await adminClient().call('tokens', 'addHsm', input)
        await reload()
        return token
      }),
    generateKey: (input) =>
      run(translate('keys:working.generate', { algorithm: input.algorithm.toUpperCase() }), async () => {
        const key = await adminClient().call('keys', 'generate', input)
        await reload()
        return key
      }),
    deleteKey: async (key) => {
      try {
        await adminClient().call('keys', 'delete', { keyId: key.id })
      } catch (error) {
        throw keysError(error, { key, certificates: get().certificates })
      }
      await reload()
    },
    generateCsr: (input) =>
      run(translate('keys:working.csr'), async () => {
        const csr = await adminClient().call('csrs', 'generate', input)
        set({ csrs: await adminClient().call('csrs', 'list') })
        return csr
      }),
    deleteCsr: async (csrId) => {
      await adminClient().call('csrs', 'delete', { csrId })
      set({ csrs: get().csrs.filter((c) => c.id !== csrId) })
    },
    importCertificate: async (input) => {
      set({ loading: true, working: translate('keys:working.import'), importError: null })
      try {
        const imported = await adminClient().call('certificates', 'import', input)
        await reload()
        set({ loading: false, working: null })
        return imported
      } catch (error) {
        set({ importError: keysError(error), loading: false, working: null })
        return null
      }
    },
    setCertificateActive: async (certId, active) => {
      await run(null, async () => {
        const updated = await adminClient().call('certificates', active ? 'activate' : 'disable', { certId })
        set({ certificates: get().certificates.map((c) => (c.id === certId ? updated : c)) })
      })
    },
    deleteCertificate: async (certificate) => {
      try {
        await adminClient().call('certificates', 'delete', { certId: certificate.id })
      } catch (error) {
        throw keysError(error, { certificate })
      }
      await reload()
    },
    registerAuthCertificate: async (certificate, address) => {
      const sent = await adminClient().call('management', 'registerAuthCertificate', { certificate: certificate.id, address: address.trim() })
      set({ notice: { kind: 'register', subject: certificate.subject, requestId: sent.requestId } })
      await reload()
    },
    unregisterAuthCertificate: async (certificate) => {
      const sent = await adminClient().call('management', 'unregisterAuthCertificate', { certificate: certificate.id })
      set({ notice: { kind: 'unregister', subject: certificate.subject, requestId: sent.requestId } })
      await reload()
    },
    clearNotice: () => set({ notice: null }),
    clearError: () => set({ error: null }),
  }
})

/** Plain words for a certificate's expiry. */
export function expiryText(daysLeft: number): string {
  if (daysLeft < 0) return translate('keys:expiry.expired', { count: -daysLeft })
  if (daysLeft === 0) return translate('keys:expiry.today')
  return translate('keys:expiry.in', { count: daysLeft })
}

/** Problems of a new PIN against the software token's rules (PKCS#11 devices check their own); null when it may be sent. */
export function newPinProblem(kind: TokenDto['kind'], newPin: string, repeat: string, policy: { minLength: number; minCharacterClasses: number }): string | null {
  if (newPin === '') return translate('keys:pinProblems.typeNew')
  if (kind === 'software') {
    if (!/^[\x20-\x7e]*$/.test(newPin)) return translate('keys:pinProblems.ascii')
    if (newPin.length < policy.minLength) return translate('keys:pinProblems.tooShort', { min: policy.minLength })
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(newPin)).length
    if (classes < policy.minCharacterClasses) return translate('keys:pinProblems.classes', { classes: policy.minCharacterClasses })
  }
  if (newPin !== repeat) return translate('keys:pinProblems.differ')
  return null
}
