import type { GlobalConfSnapshot } from '../global-conf'
import { SecurityServerError } from '../platform'
import type { AsicTrust } from './asic-verifier'
import { DEFAULT_OCSP_FRESHNESS_SECONDS, type ApprovedTsa, type VerificationTrust } from './verification-trust'

/** X-Road `GlobalConfImpl.getTspCertificates`: the approved TSAs of every instance, the own instance's first. */
function allApprovedTsas(snapshot: GlobalConfSnapshot): ApprovedTsa[] {
  const own = snapshot.instances.get(snapshot.instanceIdentifier)
  const instances = [...(own === undefined ? [] : [own]), ...[...snapshot.instances.values()].filter((i) => i !== own)]
  return instances.flatMap((i) => i.shared.approvedTsas.map((tsa) => ({ name: tsa.name, url: tsa.url, cert: tsa.cert })))
}

/**
 * Verification trust from the global configuration read model (shared parameters `approvedCA`, `approvedTSA`,
 * `ocspFreshnessSeconds`; NEXTUPDATE part `verifyNextUpdate`) — xroad-protocols.md §4.7, §4.8, §6.4.
 * `instance` selects whose CAs are trusted (the signer's instance); time-stamps are trusted from the approved TSAs of
 * every instance, as X-Road's `TimestampVerifier` is given `getTspCertificates()` (federated evidence).
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
    approvedTsas: allApprovedTsas(snapshot),
    ocspFreshnessSeconds: shared.ocspFreshnessSeconds,
    verifyNextUpdate: snapshot.verifyNextUpdate,
  }
}

/**
 * What the ASiC-E verifier trusts in a verification configuration (X-Road's `AsicContainerVerifier` over a
 * `GlobalConfProvider`): the TSAs of every instance for the time-stamp, checked before the signer's instance is
 * looked up, and the signer instance's configuration for the signature.
 */
export function asicTrustFromGlobalConf(snapshot: GlobalConfSnapshot): AsicTrust {
  const own = snapshot.instances.get(snapshot.instanceIdentifier)
  return {
    kind: 'asic-trust',
    timestampTrust: {
      instance: snapshot.instanceIdentifier,
      approvedCas: [],
      approvedTsas: allApprovedTsas(snapshot),
      ocspFreshnessSeconds: own?.shared.ocspFreshnessSeconds ?? DEFAULT_OCSP_FRESHNESS_SECONDS,
      verifyNextUpdate: snapshot.verifyNextUpdate,
    },
    forInstance: (instance) => verificationTrustFromGlobalConf(snapshot, instance),
  }
}
