import type { ProbeCode, ProbeKind, ProbeResult, StatusLight } from '@shared/admin-api/admin-api'
import { ProbeNetworkError, type StepClock } from './probe-network'

/**
 * A probe's verdict: a code and its parameters for the GUI to word, and the English text as the fallback. Parameters
 * hold facts only (names, addresses, statuses, the failing component's own message), never secrets.
 */
type Params = ProbeResult['params']

const MESSAGES: Record<ProbeCode, (p: Params) => string> = {
  'tsa-ok': (p) => `Time-stamping service ${p.name} answered with a valid time-stamp (time ${p.genTime}).`,
  'tsa-unreachable': (p) => `Time-stamping service ${p.name} cannot be reached: ${p.error}. Check the network path to ${p.url}.`,
  'tsa-timeout': (p) => `Time-stamping service ${p.name} did not answer in time (${p.error}).`,
  'tsa-http-error': (p) => `Time-stamping service ${p.name} answered HTTP ${p.status} instead of a time-stamp.`,
  'tsa-invalid': (p) => `Time-stamping service ${p.name} answered, but its time-stamp is not valid: ${p.reason}`,
  'tsa-none': () => 'Global configuration approves no time-stamping service: logged messages cannot be time-stamped.',
  'ocsp-good': (p) => `OCSP responder ${p.url} confirmed that certificate ${p.certificate} is good.`,
  'ocsp-not-good': (p) => `OCSP responder ${p.url} says certificate ${p.certificate} is ${p.status}: this server cannot use it.`,
  'ocsp-unreachable': (p) => `OCSP responder ${p.url} cannot be reached: ${p.error}.`,
  'ocsp-timeout': (p) => `OCSP responder ${p.url} did not answer in time (${p.error}).`,
  'ocsp-http-error': (p) => `OCSP responder ${p.url} answered HTTP ${p.status} instead of an OCSP response.`,
  'ocsp-invalid': (p) => `OCSP responder ${p.url} answered, but its response does not verify: ${p.reason}`,
  'ocsp-no-certificate': (p) => `No certificate of this server is issued by ${p.ca}, so there is nothing to ask responder ${p.url} about.`,
  'ocsp-none': () => 'No OCSP responder to ask: global configuration lists none for the CAs of this server\'s certificates, or there is no configuration yet.',
  'conf-ok': (p) => `Configuration source ${p.url} serves a correctly signed configuration (version ${p.version}, ${p.parts} parts, valid until ${p.expiresAt}).`,
  'conf-expired': (p) => `Configuration source ${p.url} serves a configuration that expired at ${p.expiresAt}: the central server is not publishing.`,
  'conf-unreachable': (p) => `Configuration source ${p.url} cannot be reached: ${p.error}.`,
  'conf-timeout': (p) => `Configuration source ${p.url} did not answer in time (${p.error}).`,
  'conf-http-error': (p) => `Configuration source ${p.url} answered HTTP ${p.status}.`,
  'conf-invalid': (p) => `Configuration source ${p.url} answered, but the configuration does not verify against the anchor: ${p.reason}`,
  'conf-no-anchor': () => 'No configuration anchor is imported yet, so there is no configuration source to probe.',
  'listener-ok': (p) => `Listener ${p.listener} on ${p.address} answered${p.status === undefined ? '' : ` (HTTP ${p.status})`}.`,
  'listener-auth-cert': (p) => `The server proxy on ${p.address} presents this server's authentication certificate ${p.subject}.`,
  'listener-fallback-cert': (p) => `The server proxy on ${p.address} presents the internal TLS certificate ${p.subject}, not an authentication certificate: other servers refuse it until an authentication certificate is in use.`,
  'listener-closed': (p) => `Listener ${p.listener} (${p.address}) is not listening: ${p.problem}.`,
  'listener-unreachable': (p) => `Listener ${p.listener} should listen on ${p.address} but cannot be reached: ${p.error}.`,
  'listener-timeout': (p) => `Listener ${p.listener} on ${p.address} did not answer in time (${p.error}).`,
  'listener-unexpected-answer': (p) => `Listener ${p.listener} on ${p.address} answered unexpectedly: ${p.reason}`,
  'listener-none': () => 'No listener is configured.',
  'peer-ok': (p) => `${p.provider} answered ${p.method} through this server's client proxy: ${p.services} service(s) listed.`,
  'peer-metaservice-unsupported': (p) => `The security server of ${p.provider} was reached and accepted this server, but it does not offer ${p.method} (${p.code}).`,
  'peer-error': (p) => `The security server of ${p.provider} was reached and answered with error ${p.code}: ${p.message}`,
  'peer-failed': (p) => `The test call failed on this server (${p.code}): ${p.message}`,
  'peer-unreachable': (p) => `The security server of ${p.provider} at ${p.address} cannot be reached: ${p.error}.`,
  'peer-no-server': (p) => `Global configuration lists no security server with an address for ${p.provider}.`,
  'peer-no-client-proxy': () => 'The client proxy of this server is not listening, so no test call can be sent through it.',
}

const LIGHTS: Record<ProbeCode, StatusLight> = {
  'tsa-ok': 'green', 'tsa-unreachable': 'red', 'tsa-timeout': 'red', 'tsa-http-error': 'red', 'tsa-invalid': 'red', 'tsa-none': 'red',
  'ocsp-good': 'green', 'ocsp-not-good': 'red', 'ocsp-unreachable': 'red', 'ocsp-timeout': 'red', 'ocsp-http-error': 'red', 'ocsp-invalid': 'red',
  'ocsp-no-certificate': 'gray', 'ocsp-none': 'gray',
  'conf-ok': 'green', 'conf-expired': 'red', 'conf-unreachable': 'red', 'conf-timeout': 'red', 'conf-http-error': 'red', 'conf-invalid': 'red',
  'conf-no-anchor': 'gray',
  'listener-ok': 'green', 'listener-auth-cert': 'green', 'listener-fallback-cert': 'yellow', 'listener-closed': 'red', 'listener-unreachable': 'red',
  'listener-timeout': 'red', 'listener-unexpected-answer': 'yellow', 'listener-none': 'gray',
  'peer-ok': 'green', 'peer-metaservice-unsupported': 'yellow', 'peer-error': 'red', 'peer-failed': 'red', 'peer-unreachable': 'red',
  'peer-no-server': 'red', 'peer-no-client-proxy': 'red',
}

export function probeResult(
  kind: ProbeKind, target: string, address: string, code: ProbeCode, params: Params, clock: StepClock, light: StatusLight = LIGHTS[code],
): ProbeResult {
  return { kind, target, address, light, code, params, explanation: MESSAGES[code](params), steps: clock.steps, totalMs: clock.totalMs() }
}

/** A network failure as the kind's `-unreachable` or `-timeout`, with the step it stopped at. */
export function networkFailure(
  kind: 'tsa' | 'ocsp' | 'conf' | 'listener' | 'peer', error: unknown,
): { code: ProbeCode; params: Params } {
  if (error instanceof ProbeNetworkError) {
    const outcome = error.timedOut && kind !== 'peer' ? 'timeout' : 'unreachable'
    return { code: `${kind}-${outcome}` as ProbeCode, params: { error: error.message, stage: error.stage, network: error.problem } }
  }
  return { code: `${kind}-unreachable` as ProbeCode, params: { error: (error as Error).message } }
}
