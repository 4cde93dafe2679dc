import { create } from 'zustand'
import type {
  CertificateAuthorityDto, CertificateDto, GeneratedCsrDto, KeyAlgorithmValue, KeyDto, KeyUsageValue, Pkcs11ModulePreset, TokenDto,
} from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/** Tokens, keys, certificates and the CSR wizard's authorities; each action reloads what it changed. */
interface KeysState {
  tokens: TokenDto[]
  keys: KeyDto[]
  certificates: CertificateDto[]
  authorities: CertificateAuthorityDto[]
  /** Known PKCS#11 modules installed on the server's machine. */
  pkcs11Modules: Pkcs11ModulePreset[]
  loading: boolean
  /** What a long operation is doing now (key generation on a slow HSM), for the progress display. */
  working: string | null
  error: unknown
  load(): Promise<void>
  login(tokenId: string, pin: string): Promise<boolean>
  logout(tokenId: string): Promise<void>
  changePin(input: { tokenId: string; oldPin: string; newPin: string }): Promise<boolean>
  loadPkcs11Modules(): Promise<void>
  addPkcs11Token(input: { modulePath: string; tokenLabel: string }): Promise<TokenDto | null>
  generateKey(input: { tokenId: string; usage: KeyUsageValue; algorithm: KeyAlgorithmValue; label: string }): Promise<KeyDto | null>
  deleteKey(keyId: string): Promise<void>
  generateCsr(input: { keyId: string; caName: string; member?: string; format?: 'pem' | 'der' }): Promise<GeneratedCsrDto | null>
  importCertificate(input: { content: string; encoding: 'utf8' | 'base64' }): Promise<boolean>
  setCertificateActive(certId: string, active: boolean): Promise<void>
  clearError(): void
}

export const useKeysStore = create<KeysState>((set, get) => {
  const reload = async (): Promise<void> => {
    const client = adminClient()
    const [tokens, keys, certificates, authorities] = await Promise.all([
      client.call('tokens', 'list'), client.call('keys', 'list'), client.call('certificates', 'list'), client.call('csrs', 'authorities'),
    ])
    set({ tokens, keys, certificates, authorities })
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
    tokens: [], keys: [], certificates: [], authorities: [], pkcs11Modules: [], loading: false, working: null, error: null,
    load: async () => {
      await run(null, reload)
    },
    login: async (tokenId, pin) =>
      (await run('Logging in to the token…', async () => {
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
      (await run('Changing the token PIN…', async () => {
        await adminClient().call('tokens', 'changePin', input)
        await reload()
        return true
      })) === true,
    loadPkcs11Modules: async () => {
      await run(null, async () => set({ pkcs11Modules: await adminClient().call('tokens', 'hsmModules') }))
    },
    addPkcs11Token: (input) =>
      run('Opening the PKCS#11 module and looking for the token…', async () => {
        const token = await adminClient().call('tokens', 'addHsm', input)
        await reload()
        return token
      }),
    generateKey: (input) =>
      run(`Generating a ${input.algorithm.toUpperCase()} key on the token; this can take a while on a hardware device…`, async () => {
        const key = await adminClient().call('keys', 'generate', input)
        await reload()
        return key
      }),
    deleteKey: async (keyId) => {
      await run(null, async () => {
        await adminClient().call('keys', 'delete', { keyId })
        await reload()
      })
    },
    generateCsr: (input) => run('Signing the certificate request with the key…', () => adminClient().call('csrs', 'generate', input)),
    importCertificate: async (input) =>
      (await run('Importing the certificate…', async () => {
        await adminClient().call('certificates', 'import', input)
        await reload()
        return true
      })) === true,
    setCertificateActive: async (certId, active) => {
      await run(null, async () => {
        const updated = await adminClient().call('certificates', active ? 'activate' : 'disable', { certId })
        set({ certificates: get().certificates.map((c) => (c.id === certId ? updated : c)) })
      })
    },
    clearError: () => set({ error: null }),
  }
})

/** Plain words for a certificate's expiry. */
export function expiryText(daysLeft: number): string {
  if (daysLeft < 0) return `expired ${-daysLeft} days ago`
  if (daysLeft === 0) return 'expires today'
  return `expires in ${daysLeft} days`
}

/** Problems of a new PIN against the software token's rules (PKCS#11 devices check their own); null when it may be sent. */
export function newPinProblem(kind: TokenDto['kind'], newPin: string, repeat: string, policy: { minLength: number; minCharacterClasses: number }): string | null {
  if (newPin === '') return 'Type the new PIN'
  if (kind === 'software') {
    if (!/^[\x20-\x7e]*$/.test(newPin)) return 'Use printable ASCII characters only'
    if (newPin.length < policy.minLength) return `Use at least ${policy.minLength} characters`
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(newPin)).length
    if (classes < policy.minCharacterClasses) return `Mix at least ${policy.minCharacterClasses} of: lower case, upper case, digits, other characters`
  }
  if (newPin !== repeat) return 'The new PINs differ'
  return null
}
