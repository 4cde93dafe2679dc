import { X509Certificate } from 'node:crypto'
import { encodeIdentifier, formatIdPath, memberOf, type ClientId, type SecurityServerId } from '@shared/domain/identifiers'
import type { ReadinessCheck, ReadinessCode } from '@shared/admin-api/admin-api'
import { toSecurityServerError } from '../platform'
import { buildCertPath, parseCertificate, verificationTrustFromGlobalConf } from '../signature'
import type { CertificateInfo, KeyInfo, TokenInfo } from '../signer'
import type { AuthTlsCredentials } from '../proxy'
import type { EvidenceProblem } from '../message-log'
import type { SecurityServerCore } from './security-server-core'

/**
 * Whether messages can flow through this server now, derived from the current state on every call: global
 * configuration, the authentication key and certificate the TLS listeners present (xroad-protocols.md §4.1), the
 * signing keys of the members served (§4.4), and registration in global configuration (§5.4). Each area gives one
 * check with a code and parameters; the GUI explains the code with the fix, `message` is the English text.
 */

/** Our auth credentials for TLS, with the certificate they belong to (for change detection and OCSP). */
export interface AuthCredentials extends AuthTlsCredentials {
  authCertDer: Buffer
  /** Changes whenever the key or any certificate of the chain changes. */
  fingerprint: string
}

export interface AuthSituation {
  credentials?: AuthCredentials
  check: ReadinessCheck
}

const MESSAGES: Record<ReadinessCode, (p: Record<string, string | number>) => string> = {
  'configuration-ready': (p) => `Global configuration of ${p.instance} is valid until ${p.expiresAt}.`,
  'not-initialized': () => 'This server has not joined an X-Road instance: run the first-run wizard.',
  'global-conf-missing': () => 'No global configuration has been downloaded yet: check the configuration source on the Global configuration page.',
  'global-conf-expired': (p) => `Global configuration expired at ${p.expiresAt}: messages are refused until a fresh one is downloaded.`,
  'listeners-ready': (p) => `All ${p.count} listeners are open.`,
  'listener-failed': (p) => `The ${p.listener} listener on ${p.address} is not listening: ${p.problem}`,
  'listeners-waiting': () => 'The message listeners open once the server has joined an instance.',
  'auth-ready': (p) => `Authentication certificate ${p.subject} is in use; it expires in ${p.daysLeft} days.`,
  'auth-cert-missing': () => 'No authentication certificate: generate an authentication key, send its CSR to the CA and import the certificate.',
  'auth-cert-not-active': (p) => `The authentication certificate is ${p.state}: activate it (or have it registered) on the Keys and certificates page.`,
  'auth-token-logged-out': (p) => `Token ${p.token} holding the authentication key is logged out: log in with its PIN on the Keys and certificates page.`,
  'auth-token-unavailable': (p) => `Token ${p.token} holding the authentication key cannot be reached: reconnect the device.`,
  'auth-key-unsupported': (p) => `The authentication key is on token ${p.token}; authentication keys must be on the software token.`,
  'auth-cert-untrusted': (p) => `The authentication certificate does not chain to a CA approved in global configuration: ${p.reason}`,
  'auth-cert-not-registered': (p) => `The authentication certificate is not registered for ${p.server} in global configuration: other servers refuse this one until the central server registers it.`,
  'auth-ocsp-not-good': (p) => `The authentication certificate has no fresh good OCSP response (status ${p.status}): other servers refuse connections until it has one.`,
  'sign-ready': (p) => `Signing keys are ready for ${p.count} member(s).`,
  'sign-cert-missing': (p) => `Member ${p.member} has no active signing certificate: messages of its subsystems cannot be signed.`,
  'sign-token-logged-out': (p) => `Token ${p.token} holding the signing key of ${p.member} is logged out: log in with its PIN.`,
  'sign-ocsp-not-good': (p) => `The signing certificate of ${p.member} has no fresh good OCSP response (status ${p.status}).`,
  'registration-ready': (p) => `Security server ${p.server} and its ${p.count} client(s) are registered.`,
  'server-not-registered': (p) => `Security server ${p.server} is not registered in global configuration: the central server must register it with its authentication certificate.`,
  'clients-not-registered': (p) => `${p.count} client(s) wait for registration: ${p.clients}.`,
  'clients-registration-lost': (p) => `${p.count} client(s) marked registered here are not in global configuration: ${p.clients}.`,
  'timestamping-ready': () => 'Time-stamping works: logged messages get their time-stamps.',
  'timestamping-no-tsa': () => 'No time-stamping service is approved or selected: logged messages cannot be time-stamped, and traffic stops once the failure period has passed.',
  'timestamping-failing': (p) => `Time-stamping is failing (${p.error}); ${p.stopsAt === '' ? 'traffic does not stop (the failure period is off)' : `traffic stops at ${p.stopsAt} unless a time-stamping service answers`}.`,
  'timestamping-stopped': (p) => `Time-stamping has failed for too long (${p.error}): new messages are refused until a time-stamping service answers.`,
  'evidence-ready': (p) => `The message log's evidence chain is intact: every acknowledged record is there and unchanged (${p.count} records, checked ${p.checkedAt}).`,
  'evidence-gap': (p) =>
    `${p.count} acknowledged message-log record(s) are missing (chain position ${p.range}): ` +
    (p.refusing === 'yes' ? 'new messages are refused until an administrator acknowledges the loss on the Message log page.' : 'traffic continues (fail-closed is off); acknowledge the loss on the Message log page.'),
  'evidence-broken': (p) =>
    `The message log's evidence is damaged (${p.problem}): ` +
    (p.refusing === 'yes' ? 'new messages are refused until an administrator acknowledges it on the Message log page.' : 'traffic continues (fail-closed is off); acknowledge it on the Message log page.'),
  'evidence-acknowledged': (p) => `The evidence chain is intact apart from ${p.count} problem(s) an administrator acknowledged (last by ${p.by} at ${p.acknowledgedAt}).`,
}

export function readinessCheck(
  key: ReadinessCheck['key'], light: ReadinessCheck['light'], code: ReadinessCode, params: Record<string, string | number> = {},
): ReadinessCheck {
  return { key, light, code, params, message: MESSAGES[code](params) }
}

export function ownServerId(core: SecurityServerCore): SecurityServerId | undefined {
  return core.serverConf.identity()?.serverId
}

const DAY_MS = 86_400_000

/** The auth certificate in use and the check of the authentication area. */
export async function authSituation(core: SecurityServerCore): Promise<AuthSituation> {
  const check = (light: ReadinessCheck['light'], code: ReadinessCode, params: Record<string, string | number> = {}) =>
    readinessCheck('authentication', light, code, params)
  const serverId = ownServerId(core)
  if (serverId === undefined) return { check: check('gray', 'not-initialized') }
  const { signer } = core
  const keys = signer.listKeys()
  const authKeys = new Map(keys.filter((k) => k.usage === 'auth').map((k) => [k.id, k]))
  const certs = signer.listCertificates().filter((c) => authKeys.has(c.keyId))
  if (certs.length === 0) return { check: check('red', 'auth-cert-missing') }
  const usable = certs.filter((c) => c.state === 'active' || c.state === 'registered')
  if (usable.length === 0) return { check: check('red', 'auth-cert-not-active', { state: (certs[0] as CertificateInfo).state }) }
  const tokens = await signer.listTokens()
  const tokenOf = (key: KeyInfo | undefined): TokenInfo | undefined => tokens.find((t) => t.id === key?.tokenId)
  const loggedIn = usable.find((c) => tokenOf(authKeys.get(c.keyId))?.loggedIn === true)
  if (loggedIn === undefined) {
    const token = tokenOf(authKeys.get((usable[0] as CertificateInfo).keyId))
    const label = tokenLabel(token)
    return { check: check('red', token?.available === false ? 'auth-token-unavailable' : 'auth-token-logged-out', { token: label, tokenId: token?.id ?? '' }) }
  }
  const token = tokenOf(authKeys.get(loggedIn.keyId))
  if (token?.kind === 'pkcs11') return { check: check('red', 'auth-key-unsupported', { token: tokenLabel(token) }) }
  const conf = core.globalConf.current()
  if (conf === undefined) return { check: check('red', 'global-conf-missing') }
  let credentials: AuthCredentials
  try {
    const auth = await signer.getAuthKey()
    const path = buildCertPath(parseCertificate(auth.certDer, 'authentication certificate'), [], verificationTrustFromGlobalConf(conf.snapshot))
    const chain = path.certs.slice(0, -1)
    credentials = {
      keyPem: auth.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      // §4.1 getAllCertsWithoutTrustedRoot: leaf and intermediates, never the root.
      certChainPem: chain.map((c) => new X509Certificate(c.der).toString()).join(''),
      authCertDer: auth.certDer,
      fingerprint: `${auth.keyId}:${chain.map((c) => Buffer.from(c.der).toString('base64').slice(-24)).join('/')}`,
    }
  } catch (error) {
    const coded = toSecurityServerError(error)
    if (coded.code === 'token_not_active') return { check: check('red', 'auth-token-logged-out', { token: tokenLabel(token), tokenId: token?.id ?? '' }) }
    return { check: check('red', 'auth-cert-untrusted', { reason: coded.message }) }
  }
  const cert = certs.find((c) => c.certDer.equals(credentials.authCertDer)) ?? loggedIn
  if (!conf.authCertHashMatches(serverId, credentials.authCertDer)) {
    return { credentials, check: check('red', 'auth-cert-not-registered', { server: formatIdPath(serverId) }) }
  }
  const ocsp = signer.ocspStatus(cert.id).status
  if (ocsp !== 'good') return { credentials, check: check('red', 'auth-ocsp-not-good', { status: ocsp }) }
  const daysLeft = Math.floor((new Date(cert.notAfter).getTime() - core.clock.now().getTime()) / DAY_MS)
  return { credentials, check: check('green', 'auth-ready', { subject: cert.subject, daysLeft }) }
}

/** Every member this server signs for (the owner and the members of its clients) has a usable signing certificate. */
export async function signingCheck(core: SecurityServerCore): Promise<ReadinessCheck> {
  const identity = core.serverConf.identity()
  if (identity === undefined) return readinessCheck('signing', 'gray', 'not-initialized')
  const { signer } = core
  const members = new Map<string, ClientId>([[encodeIdentifier(identity.owner), identity.owner]])
  for (const client of core.serverConf.listClients()) {
    const member = memberOf(client.id)
    members.set(encodeIdentifier(member), member)
  }
  const keys = new Map(signer.listKeys().filter((k) => k.usage === 'sign').map((k) => [k.id, k]))
  const tokens = await signer.listTokens()
  const certs = signer.listCertificates().filter((c) => keys.has(c.keyId) && c.state === 'active')
  for (const [encoded, member] of members) {
    const own = certs.filter((c) => c.memberId !== undefined && encodeIdentifier(c.memberId) === encoded)
    const name = formatIdPath(member)
    if (own.length === 0) return readinessCheck('signing', 'red', 'sign-cert-missing', { member: name })
    const onLoggedIn = own.filter((c) => tokens.find((t) => t.id === keys.get(c.keyId)?.tokenId)?.loggedIn === true)
    if (onLoggedIn.length === 0) {
      const token = tokens.find((t) => t.id === keys.get((own[0] as CertificateInfo).keyId)?.tokenId)
      return readinessCheck('signing', 'red', 'sign-token-logged-out', { member: name, token: tokenLabel(token), tokenId: token?.id ?? '' })
    }
    // reliability-and-security.md §1.3: signing needs a fresh good OCSP response.
    const statuses = onLoggedIn.map((c) => signer.ocspStatus(c.id).status)
    if (!statuses.includes('good')) return readinessCheck('signing', 'red', 'sign-ocsp-not-good', { member: name, status: statuses[0] ?? 'none' })
  }
  return readinessCheck('signing', 'green', 'sign-ready', { count: members.size })
}

export function configurationCheck(core: SecurityServerCore): ReadinessCheck {
  if (core.serverConf.identity() === undefined) return readinessCheck('configuration', 'gray', 'not-initialized')
  const conf = core.globalConf.current()
  if (conf === undefined) return readinessCheck('configuration', 'red', 'global-conf-missing')
  const expiresAt = conf.expiresAt?.toISOString() ?? ''
  try {
    conf.assertValid(core.clock.now())
  } catch {
    return readinessCheck('configuration', 'red', 'global-conf-expired', { expiresAt })
  }
  return readinessCheck('configuration', 'green', 'configuration-ready', { instance: conf.instanceIdentifier, expiresAt })
}

/** The server and its clients as global configuration lists them (GlobalConfChecker's view, §5.4). */
export function registrationCheck(core: SecurityServerCore): ReadinessCheck {
  const serverId = ownServerId(core)
  if (serverId === undefined) return readinessCheck('registration', 'gray', 'not-initialized')
  const conf = core.globalConf.current()
  if (conf === undefined) return readinessCheck('registration', 'gray', 'global-conf-missing')
  const server = formatIdPath(serverId)
  if (conf.getServerById(serverId) === undefined) return readinessCheck('registration', 'red', 'server-not-registered', { server })
  const clients = core.serverConf.listClients()
  const listed = (id: ClientId): boolean => conf.isSecurityServerClient(id, serverId)
  const lost = clients.filter((c) => c.state === 'REGISTERED' && !listed(c.id))
  if (lost.length > 0) return readinessCheck('registration', 'yellow', 'clients-registration-lost', listParams(lost.map((c) => c.id)))
  const waiting = clients.filter((c) => (c.state === 'SAVED' || c.state === 'REGISTRATION_IN_PROGRESS') && !listed(c.id))
  if (waiting.length > 0) return readinessCheck('registration', 'yellow', 'clients-not-registered', listParams(waiting.map((c) => c.id)))
  return readinessCheck('registration', 'green', 'registration-ready', { server, count: clients.length })
}

function listParams(ids: ClientId[]): Record<string, string | number> {
  return { count: ids.length, clients: ids.slice(0, 5).map((id) => formatIdPath(id)).join(', ') + (ids.length > 5 ? ', …' : '') }
}

function tokenLabel(token: TokenInfo | undefined): string {
  if (token === undefined) return '?'
  return token.label !== '' ? token.label : token.kind === 'software' ? 'Software token' : token.id
}

/** Time-stamping keeps up (xroad-protocols.md §6.2, fail-closed after `acceptable-timestamp-failure-period`). */
export function timestampingCheck(core: SecurityServerCore): ReadinessCheck {
  if (core.serverConf.identity() === undefined) return readinessCheck('timestamping', 'gray', 'not-initialized')
  const status = core.messageLog.status()
  const error = status.lastTimestampError ?? 'no answer'
  if (!status.acceptingMessages) return readinessCheck('timestamping', 'red', 'timestamping-stopped', { error })
  if (core.globalConf.current() !== undefined && core.timestampingServices().length === 0) return readinessCheck('timestamping', 'red', 'timestamping-no-tsa')
  if (status.timestampingFailingSince !== null && status.lastTimestampError !== null) {
    const period = core.messageLog.settings.acceptableTimestampFailurePeriodSeconds
    const stopsAt = period === 0 ? '' : new Date(Date.parse(status.timestampingFailingSince) + period * 1000).toISOString()
    return readinessCheck('timestamping', 'yellow', 'timestamping-failing', { error, stopsAt })
  }
  return readinessCheck('timestamping', 'green', 'timestamping-ready')
}

/** The problem words of `evidence-broken`, by kind (the GUI words it from the code's `kind` parameter). */
const PROBLEM_WORDS: Record<EvidenceProblem['kind'], string> = {
  missing: 'acknowledged records are missing',
  altered: 'a record no longer matches its chain hash',
  link: 'the chain does not join',
  unreadable: 'the database cannot be read',
  'ack-file': 'the acknowledgement file is gone or unreadable',
}

/**
 * Evidence continuity of the message log (`message-log/evidence-check.ts`): every acknowledged record is there and
 * unchanged. A problem not acknowledged is red while it refuses traffic (fail-closed), yellow when traffic continues.
 */
export function evidenceCheck(core: SecurityServerCore): ReadinessCheck {
  const evidence = core.messageLog.evidence()
  const { report } = evidence
  const open = report.problems.filter((p) => !p.acknowledged)
  const refusing = evidence.refusing ? 'yes' : 'no'
  const light = evidence.refusing ? 'red' : 'yellow'
  if (open.length > 0) {
    const missing = open.filter((p) => p.kind === 'missing')
    if (missing.length === open.length) {
      const count = missing.reduce((n, p) => n + ((p.lastSeq ?? 0) - (p.firstSeq ?? 0) + 1), 0)
      const first = Math.min(...missing.map((p) => p.firstSeq ?? 0))
      const last = Math.max(...missing.map((p) => p.lastSeq ?? 0))
      return readinessCheck('evidence', light, 'evidence-gap', { count, range: first === last ? String(first) : `${first}–${last}`, refusing })
    }
    const worst = open.find((p) => p.kind !== 'missing') as EvidenceProblem
    return readinessCheck('evidence', light, 'evidence-broken', {
      kind: worst.kind, problem: PROBLEM_WORDS[worst.kind], count: open.length, first: worst.firstSeq ?? '', refusing,
    })
  }
  if (report.problems.length > 0) {
    const last = core.messageLog.evidenceIncidents(1)[0]
    return readinessCheck('evidence', 'green', 'evidence-acknowledged', {
      count: report.problems.length, by: last?.acknowledgedBy ?? '', acknowledgedAt: last?.acknowledgedAtMs === null || last === undefined ? '' : new Date(last.acknowledgedAtMs).toISOString(),
    })
  }
  if (core.serverConf.identity() === undefined && report.records === 0) return readinessCheck('evidence', 'gray', 'not-initialized')
  return readinessCheck('evidence', 'green', 'evidence-ready', { count: report.records, checkedAt: new Date(report.checkedAtMs).toISOString() })
}
