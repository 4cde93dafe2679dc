/**
 * Diagnostics that probe: on demand, each step timed, the approved TSAs, the OCSP responders, the anchor's
 * configuration sources, this server's own listeners and a test call to a peer; and the diagnostics bundle's ZIP.
 */
export { runProbes, type ProbeDeps, type ProbeRequest } from './probes'
export type { PeerProbeInput } from './peer-probe'
export { writeBundleZip, scrubLogLine, type BundleEntry } from './diagnostics-bundle'
