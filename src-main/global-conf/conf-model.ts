import type { ClientId, GlobalGroupId, MemberId, SecurityServerId, ServiceId } from '@shared/domain/identifiers'

/**
 * The typed read model of X-Road global configuration: shared parameters V2–V6, private parameters V2–V3
 * and the optional MONITORING, FETCHINTERVAL and NEXTUPDATE parts (xroad-protocols.md §5.4–5.6).
 */

/** Shared-parameters format version (PR-GCONF §2.7; `Version` header of the directory, `configurationVersion` metadata). */
export type ConfVersion = 2 | 3 | 4 | 5 | 6

/** The hash algorithm of `securityServer/authCertHash`: SHA-1 for V2, SHA-256 for V3+ (xroad-protocols.md §4.1, §5.4). */
export type AuthCertHashAlgorithm = 'sha1' | 'sha256'

export type CostType = 'FREE' | 'PAID' | 'UNDEFINED'

export interface MemberClass {
  readonly code: string
  readonly description: string
}

export interface Subsystem {
  readonly id: ClientId
  readonly subsystemCode: string
  readonly name?: string
}

export interface Member {
  readonly id: MemberId
  readonly memberClass: MemberClass
  readonly name: string
  readonly subsystems: readonly Subsystem[]
}

export interface MaintenanceMode {
  readonly message?: string
}

export interface SecurityServer {
  readonly id: SecurityServerId
  readonly owner: MemberId
  readonly serverCode: string
  readonly address?: string
  /** Base64 hashes of the DER authentication certificates. */
  readonly authCertHashes: readonly string[]
  readonly authCertHashAlgorithm: AuthCertHashAlgorithm
  /** Clients listed explicitly; the owner is implicitly a client too (§5.4). */
  readonly clients: readonly ClientId[]
  readonly inMaintenanceMode: boolean
  readonly maintenanceMessage?: string
}

export interface GlobalGroup {
  readonly id: GlobalGroupId
  readonly description: string
  readonly members: readonly ClientId[]
}

export interface CentralService {
  readonly serviceCode: string
  readonly implementingService?: ServiceId
}

export interface OcspResponder {
  readonly url: string
  readonly cert?: Uint8Array
  readonly costType?: CostType
}

export interface CaInfo {
  /** DER of the CA certificate. */
  readonly cert: Uint8Array
  readonly ocsp: readonly OcspResponder[]
}

export interface AcmeServer {
  readonly directoryUrl: string
  readonly ipAddress?: string
  readonly authenticationCertificateProfileId?: string
  readonly signingCertificateProfileId?: string
}

export interface ApprovedCa {
  readonly name: string
  readonly authenticationOnly: boolean
  readonly topCa: CaInfo
  readonly intermediateCas: readonly CaInfo[]
  /** Java class name of X-Road's certificate profile provider. */
  readonly certificateProfileInfo: string
  readonly defaultCsrFormat?: 'PEM' | 'DER'
  readonly acmeServer?: AcmeServer
}

export interface ApprovedTsa {
  readonly name: string
  readonly url: string
  readonly cert: Uint8Array
  readonly costType?: CostType
}

export interface ConfigurationSource {
  readonly address: string
  readonly internalVerificationCerts: readonly Uint8Array[]
  readonly externalVerificationCerts: readonly Uint8Array[]
}

export interface SharedParameters {
  readonly version: ConfVersion
  readonly instanceIdentifier: string
  readonly sources: readonly ConfigurationSource[]
  readonly approvedCas: readonly ApprovedCa[]
  readonly approvedTsas: readonly ApprovedTsa[]
  readonly members: readonly Member[]
  readonly securityServers: readonly SecurityServer[]
  readonly globalGroups: readonly GlobalGroup[]
  readonly centralServices: readonly CentralService[]
  readonly memberClasses: readonly MemberClass[]
  readonly ocspFreshnessSeconds: number
  /**
   * Entries left out because their identifier is unusable (empty, over 255 characters, a control character), with
   * the reason; everything else of the instance is kept.
   */
  readonly ignoredEntries: readonly string[]
}

export interface AnchorSource {
  readonly downloadUrl: string
  readonly verificationCerts: readonly Uint8Array[]
}

/** A configuration anchor (PR-GCONF Annex E), also the shape of federated anchors in private parameters. */
export interface ConfigurationAnchor {
  readonly generatedAt?: Date
  readonly instanceIdentifier: string
  readonly sources: readonly AnchorSource[]
}

export interface ManagementService {
  readonly authCertRegServiceAddress: string
  readonly authCertRegServiceCert?: Uint8Array
  readonly managementRequestServiceProviderId: ClientId
}

export interface PrivateParameters {
  readonly version: 2 | 3
  readonly instanceIdentifier: string
  readonly configurationAnchors: readonly ConfigurationAnchor[]
  readonly managementService: ManagementService
  readonly timeStampingIntervalSeconds: number
}

/** Metadata stored next to each part (`{file}.metadata`, xroad-protocols.md §5.6). */
export interface PartMetadata {
  readonly contentIdentifier?: string
  readonly instanceIdentifier?: string
  readonly expirationDate?: Date
  readonly configurationVersion?: number
}

export interface InstanceConfiguration {
  readonly instanceIdentifier: string
  readonly shared: SharedParameters
  readonly private?: PrivateParameters
  /** Earliest expiry of this instance's parts, when the metadata says. */
  readonly expiresAt?: Date
}

export interface GlobalConfSnapshot {
  /** This server's own instance (`instance-identifier` file). */
  readonly instanceIdentifier: string
  readonly instances: ReadonlyMap<string, InstanceConfiguration>
  /** Earliest expiry over all instances (undefined when no part carries one). */
  readonly expiresAt?: Date
  /** MONITORING part: the client allowed to query monitoring data. */
  readonly monitoringClient?: ClientId
  /** FETCHINTERVAL part: OCSP fetch interval in seconds (default 1200). */
  readonly ocspFetchIntervalSeconds: number
  /** NEXTUPDATE part: whether OCSP nextUpdate is checked (default true). */
  readonly verifyNextUpdate: boolean
}

export const DEFAULT_OCSP_FRESHNESS_SECONDS = 3600
export const DEFAULT_OCSP_FETCH_INTERVAL_SECONDS = 1200
