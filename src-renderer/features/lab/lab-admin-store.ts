import { create } from 'zustand'
import type {
  LabAnchorDto, LabApi, LabCertificateDto, LabGlobalGroupDto, LabManagementDto, LabMemberDto, LabServerDto, LabStatus, LabTrustServicesDto,
} from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/**
 * The Lab page: the lab this server hosts, as its central server sees it (members, security servers, certificates,
 * global groups, management requests, trust services, anchor). Every change goes to the server, which signs a new global configuration;
 * the page then reloads what it shows, so it never shows more than the lab holds.
 */
export type LabMethod = Exclude<keyof LabApi & string, 'status' | 'create' | 'confirm'>
type Args<M extends LabMethod> = Parameters<LabApi[M]>
type Result<M extends LabMethod> = Awaited<ReturnType<LabApi[M]>>

interface LabAdminState {
  status: LabStatus | null
  members: LabMemberDto[]
  servers: LabServerDto[]
  certificates: LabCertificateDto[]
  groups: LabGlobalGroupDto[]
  trust: LabTrustServicesDto | null
  anchor: LabAnchorDto | null
  /** The management service and the requests security servers sent it. */
  management: LabManagementDto | null
  loading: boolean
  error: unknown
  /** Reads everything the page shows. */
  load(): Promise<void>
  /** Reads only whether this server hosts a lab (the navigation shows the Lab page then). */
  checkHosted(): Promise<void>
  /**
   * One lab call; after a change the page reloads. Throws the server's refusal so the form or dialog that asked can
   * show it at its field (or in the confirmation dialog).
   */
  act<M extends LabMethod>(method: M, ...args: Args<M>): Promise<Result<M>>
  clearError(): void
}

export const initialLabAdmin = {
  status: null, members: [], servers: [], certificates: [], groups: [], trust: null, anchor: null, management: null, loading: false, error: null,
}

/** Methods that only read: no reload after them. */
const READS: ReadonlySet<LabMethod> = new Set([
  'members', 'servers', 'certificates', 'globalGroups', 'trustServices', 'anchor', 'inspectCsr', 'certificate', 'managementRequests',
])

export const useLabAdminStore = create<LabAdminState>((set, get) => ({
  ...initialLabAdmin,
  async load() {
    set({ loading: true })
    try {
      const client = adminClient()
      const status = await client.call('lab', 'status')
      if (!status.exists) {
        set({ ...initialLabAdmin, status })
        return
      }
      const [members, servers, certificates, groups, trust, anchor, management] = await Promise.all([
        client.call('lab', 'members'),
        client.call('lab', 'servers'),
        client.call('lab', 'certificates'),
        client.call('lab', 'globalGroups'),
        client.call('lab', 'trustServices'),
        client.call('lab', 'anchor'),
        client.call('lab', 'managementRequests'),
      ])
      set({ status, members, servers, certificates, groups, trust, anchor, management: management ?? null, loading: false, error: null })
    } catch (error) {
      set({ error, loading: false })
    }
  },
  async checkHosted() {
    try {
      const status = await adminClient().call('lab', 'status')
      set({ status })
    } catch {
      // The navigation keeps what it showed; the Lab page reports errors when opened.
    }
  },
  async act(method, ...args) {
    const call = adminClient().call as unknown as (domain: 'lab', m: string, ...a: unknown[]) => Promise<unknown>
    const value = await call('lab', method, ...args)
    if (!READS.has(method)) await get().load()
    return value as never
  },
  clearError: () => set({ error: null }),
}))

/** `MEMBER:LAB/GOV/1234` → `LAB/GOV/1234`: identifiers as people read them. */
export function idPath(id: string): string {
  return id.replace(/^[A-Z]+:/, '')
}

/** The member a client identifier belongs to, encoded: `SUBSYSTEM:LAB/GOV/1234/x` → `MEMBER:LAB/GOV/1234`. */
export function memberOf(id: string): string {
  const parts = idPath(id).split('/')
  return `MEMBER:${parts.slice(0, 3).join('/')}`
}

/** Every member and subsystem of the lab as picker options, `value` encoded, `label` with the member's name. */
export function clientOptions(members: readonly LabMemberDto[]): Array<{ value: string; label: string }> {
  return members.flatMap((m) => [
    { value: m.id, label: `${idPath(m.id)} · ${m.name}` },
    ...m.subsystems.map((s) => ({ value: s.id, label: `${idPath(s.id)} · ${m.name}` })),
  ])
}

/** The authentication certificates the lab issued for `serverCode` that can still be registered (good, not registered yet). */
export function registrableCertificates(certificates: readonly LabCertificateDto[], serverCode: string): LabCertificateDto[] {
  const code = serverCode.trim()
  return certificates.filter((c) => c.usage === 'auth' && c.status === 'good' && c.registeredOn.length === 0 && (code === '' || commonName(c.subject) === code))
}

/** The CN of a subject such as `C=LAB, CN=SS1`. */
export function commonName(subject: string): string | undefined {
  return subject.split(',').map((rdn) => rdn.trim()).find((rdn) => rdn.startsWith('CN='))?.slice(3)
}
