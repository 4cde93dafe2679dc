import type { ListenerStatus, ProbeKind, ProbeReport, ProbeResult } from '@shared/admin-api/admin-api'
import { parseConfigurationAnchor, type GlobalConf } from '../global-conf'
import type { Clock } from '../platform'
import { verificationTrustFromGlobalConf } from '../signature'
import { probeConfigurationSource } from './conf-source-probe'
import { probeListener } from './listener-probe'
import { probeOcspResponder, type ProbedResponder } from './ocsp-probe'
import { probePeer, type PeerProbeDeps, type PeerProbeInput } from './peer-probe'
import { StepClock } from './probe-network'
import { probeResult } from './probe-result'
import { probeTsa } from './tsa-probe'

/** What the probes read from the running server; every call reads the current state. */
export interface ProbeDeps extends PeerProbeDeps {
  clock: Clock
  /** The stored configuration anchor (XML bytes), if one is imported. */
  anchor(): Uint8Array | undefined
  /** Own certificates with their usage; `inUse` for active or registered ones. */
  ownCertificates(): Array<{ der: Uint8Array; subject: string; usage: 'auth' | 'sign' | null; inUse: boolean }>
  /** The TSAs time-stamping uses now (the administrator's selection, else every approved one). */
  timestampingServices(): ReadonlyArray<{ name?: string; url: string }>
  /** Every listener the bootstrap configuration asks for, with its state. */
  listeners(): ListenerStatus[]
  initialized(): boolean
  /** The authentication certificate the server proxy presents now, if any. */
  authCertDer(): Uint8Array | undefined
}

export interface ProbeRequest {
  kinds: readonly ProbeKind[]
  peer?: PeerProbeInput
}

/**
 * Runs the asked probes one after the other, so that one probe's work does not show in another's timing; results in the
 * order of `PROBE_KINDS`, each kind's targets in configuration order.
 */
export async function runProbes(request: ProbeRequest, deps: ProbeDeps): Promise<ProbeReport> {
  const startedAt = deps.clock.now().toISOString()
  const wanted = new Set(request.kinds)
  const probes: ProbeResult[] = []
  if (wanted.has('tsa')) probes.push(...await probeTsas(deps))
  if (wanted.has('ocsp')) probes.push(...await probeResponders(deps))
  if (wanted.has('conf-source')) probes.push(...await probeSources(deps))
  if (wanted.has('listener')) probes.push(...await probeListeners(deps))
  if (wanted.has('peer') && request.peer !== undefined) probes.push(await probePeer(request.peer, deps))
  return { startedAt, finishedAt: deps.clock.now().toISOString(), probes }
}

async function inSequence<T>(items: readonly T[], probe: (item: T) => Promise<ProbeResult>): Promise<ProbeResult[]> {
  const results: ProbeResult[] = []
  for (const item of items) results.push(await probe(item))
  return results
}

async function probeTsas(deps: ProbeDeps): Promise<ProbeResult[]> {
  const conf = deps.globalConf()
  const approved = conf?.getTsas() ?? []
  if (approved.length === 0) return [probeResult('tsa', '', '', 'tsa-none', {}, new StepClock(), conf === undefined ? 'gray' : 'red')]
  const used = deps.timestampingServices()
  return inSequence(approved, (tsa) => probeTsa({ name: tsa.name, url: tsa.url, cert: tsa.cert, inUse: used.some((u) => u.url === tsa.url) }))
}

async function probeResponders(deps: ProbeDeps): Promise<ProbeResult[]> {
  const conf = deps.globalConf()
  const responders = conf === undefined ? [] : respondersOf(conf, deps)
  if (conf === undefined || responders.length === 0) return [probeResult('ocsp', '', '', 'ocsp-none', {}, new StepClock(), 'gray')]
  return inSequence(responders, (r) => probeOcspResponder(r.responder, verificationTrustFromGlobalConf(conf.snapshot, r.instance), () => deps.clock.now()))
}

/** Every responder of every approved CA, each with the own certificate (in use, auth first) that CA issued. */
function respondersOf(conf: GlobalConf, deps: ProbeDeps): Array<{ responder: ProbedResponder; instance: string }> {
  const own = deps.ownCertificates()
    .map((c) => ({ ...c, match: conf.getApprovedCaFor(c.der) }))
    .sort((a, b) => Number(b.inUse) - Number(a.inUse) || Number(b.usage === 'auth') - Number(a.usage === 'auth'))
  const seen = new Set<string>()
  const found: Array<{ responder: ProbedResponder; instance: string }> = []
  for (const instance of conf.getInstanceIdentifiers()) {
    for (const ca of conf.getApprovedCas(instance)) {
      for (const info of [ca.topCa, ...ca.intermediateCas]) {
        const issued = own.find((c) => c.match !== undefined && Buffer.from(c.match.issuerCert).equals(Buffer.from(info.cert)))
        for (const ocsp of info.ocsp) {
          const key = `${ocsp.url} ${Buffer.from(info.cert).toString('base64')}`
          if (seen.has(key)) continue
          seen.add(key)
          found.push({
            instance,
            responder: {
              url: ocsp.url, ca: ca.name, issuerDer: info.cert,
              ...(issued === undefined ? {} : { certificate: { der: issued.der, subject: issued.subject } }),
            },
          })
        }
      }
    }
  }
  return found
}

async function probeSources(deps: ProbeDeps): Promise<ProbeResult[]> {
  const stored = deps.anchor()
  const sources = stored === undefined ? [] : parseConfigurationAnchor(stored).sources
  if (sources.length === 0) return [probeResult('conf-source', '', '', 'conf-no-anchor', {}, new StepClock())]
  return inSequence(sources, (s) => probeConfigurationSource(s, () => deps.clock.now()))
}

async function probeListeners(deps: ProbeDeps): Promise<ProbeResult[]> {
  const listeners = deps.listeners()
  if (listeners.length === 0) return [probeResult('listener', '', '', 'listener-none', {}, new StepClock())]
  const auth = deps.authCertDer()
  const tls = deps.authTls?.()
  const context = { initialized: deps.initialized(), ...(auth === undefined ? {} : { authCertDer: auth }), ...(tls === undefined ? {} : { authTls: tls }) }
  return inSequence(listeners, (l) => probeListener(l, context))
}
