import { SecurityServerError } from '../platform'
import { certificateBytes } from './certificate-util'

/**
 * The trust material a verifier needs, as the global configuration provides it (shared parameters:
 * `approvedCA`, `approvedTSA`, `globalSettings/ocspFreshnessSeconds`; optional part NEXTUPDATE
 * `verifyNextUpdate`) — xroad-protocols.md §4.7, §4.8, §5.4.
 */
export interface ApprovedCa {
  name?: string
  /** DER of the top CA certificate (trust anchor). */
  topCert: Uint8Array
  /** DER of the intermediate CA certificates listed for this CA. */
  intermediates: Uint8Array[]
  /** DER of OCSP responder certificates listed for this CA (the top CA's and the intermediates'). */
  ocspResponderCerts: Uint8Array[]
  /** Java class name of the certificate profile provider (`certificateProfileInfo`). */
  certificateProfileInfo: string
  authenticationOnly?: boolean
}

export interface ApprovedTsa {
  name?: string
  url?: string
  /** DER of the TSA certificate. */
  cert: Uint8Array
}

export interface VerificationTrust {
  /** X-Road instance the trust belongs to (context instance for the Basic profiles). */
  instance: string
  approvedCas: ApprovedCa[]
  approvedTsas: ApprovedTsa[]
  /** `globalSettings/ocspFreshnessSeconds` (default 3600). */
  ocspFreshnessSeconds: number
  /** NEXTUPDATE optional part; X-Road checks nextUpdate unless this is false. */
  verifyNextUpdate: boolean
}

export const DEFAULT_OCSP_FRESHNESS_SECONDS = 3600

/** Normalises certificates (DER, PEM, or base64 of either) and fills defaults. */
export function verificationTrust(input: {
  instance: string
  approvedCas: Array<Omit<ApprovedCa, 'topCert' | 'intermediates' | 'ocspResponderCerts'> & {
    topCert: Uint8Array | string
    intermediates?: Array<Uint8Array | string>
    ocspResponderCerts?: Array<Uint8Array | string>
  }>
  approvedTsas?: Array<Omit<ApprovedTsa, 'cert'> & { cert: Uint8Array | string }>
  ocspFreshnessSeconds?: number
  verifyNextUpdate?: boolean
}): VerificationTrust {
  if (input.instance === '') throw new SecurityServerError('malformed_global_conf', 'Verification trust needs an instance identifier')
  return {
    instance: input.instance,
    approvedCas: input.approvedCas.map((ca) => ({
      ...ca,
      topCert: certificateBytes(ca.topCert),
      intermediates: (ca.intermediates ?? []).map(certificateBytes),
      ocspResponderCerts: (ca.ocspResponderCerts ?? []).map(certificateBytes),
    })),
    approvedTsas: (input.approvedTsas ?? []).map((tsa) => ({ ...tsa, cert: certificateBytes(tsa.cert) })),
    ocspFreshnessSeconds: input.ocspFreshnessSeconds ?? DEFAULT_OCSP_FRESHNESS_SECONDS,
    verifyNextUpdate: input.verifyNextUpdate ?? true,
  }
}
