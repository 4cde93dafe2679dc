import type { GlobalConfSnapshot } from '../global-conf'
import { SecurityServerError } from '../platform'
import type { VerificationTrust } from './verification-trust'

/**
 * Verification trust from the global configuration read model (shared parameters `approvedCA`, `approvedTSA`,
 * `ocspFreshnessSeconds`; NEXTUPDATE part `verifyNextUpdate`) — xroad-protocols.md §4.7, §4.8, §6.4.
 * `instance` selects whose CAs are trusted (the signer's instance); TSAs come from the same instance.
 */
export function verificationTrustFromGlobalConf(snapshot: GlobalConfSnapshot, instance = snapshot.instanceIdentifier): VerificationTrust {
  const conf = snapshot.instances.get(instance)
  if (conf === undefined) {
    throw new SecurityServerError('malformed_global_conf', `Global configuration has no shared parameters for instance ${instance}`)
  }
  const shared = conf.shared
  return {
    instance,
    approvedCas: shared.approvedCas.map((ca) => ({
      name: ca.name,
      topCert: ca.topCa.cert,
      intermediates: ca.intermediateCas.map((i) => i.cert),
      ocspResponderCerts: [ca.topCa, ...ca.intermediateCas].flatMap((i) => i.ocsp.flatMap((o) => (o.cert ? [o.cert] : []))),
      certificateProfileInfo: ca.certificateProfileInfo,
      authenticationOnly: ca.authenticationOnly,
    })),
    approvedTsas: shared.approvedTsas.map((tsa) => ({ name: tsa.name, url: tsa.url, cert: tsa.cert })),
    ocspFreshnessSeconds: shared.ocspFreshnessSeconds,
    verifyNextUpdate: snapshot.verifyNextUpdate,
  }
}
