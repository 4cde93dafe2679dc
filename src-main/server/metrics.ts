import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client'
import { formatIdPath } from '@shared/domain/identifiers'
import type { AlertDto } from '@shared/admin-api/operations-api'
import type { ExchangeObserver } from '../proxy'
import type { TlsConnectionCounts } from './proxy-runtime'
import type { ServerFacts, ServerFactsSource } from './server-facts'

/**
 * The `/metrics` exposition (prom-client): exchanges by side, client, service and outcome and their latency histograms,
 * counted by an exchange observer beside the operational-monitoring one (nothing is read from the op-monitoring
 * database on a scrape); and the operator's gauges read from the domains at scrape time — readiness per area,
 * message-log backlog, time-stamping age, OCSP age, certificate expiry, token state, disk forecast, active alerts.
 * Prometheus text format 0.0.4 by default; OpenMetrics 1.0 when the scraper asks for it (`Accept`), as Prometheus does.
 * Units are base units (seconds, bytes), as the Prometheus naming conventions and `promtool check metrics` want.
 */
export interface ServerMetrics {
  /** Counts each exchange (hand it to the proxy runtime beside the operational-monitoring observer). */
  readonly observer: ExchangeObserver
  /** One scrape in the format the `Accept` header asks for. */
  scrape(accept: string | undefined): Promise<{ contentType: string; body: string }>
}

export interface ServerMetricsDeps {
  facts: ServerFactsSource
  activeAlerts(): AlertDto[]
  version: string
}

/** Seconds: from 5 ms (a direct call) to 60 s (X-Road's default service timeout). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const READINESS_STATES = ['green', 'yellow', 'red', 'gray'] as const
const IN_USE = new Set(['registered', 'active'])
const PROCESS_START_S = Math.round(Date.now() / 1000 - process.uptime())

export function wantsOpenMetrics(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.split(';')[0]?.trim().toLowerCase() === 'application/openmetrics-text')
}

export function createServerMetrics(deps: ServerMetricsDeps): ServerMetrics {
  const text = new Registry()
  const openMetrics = new Registry()
  openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never)
  const registers = [text, openMetrics] as Registry[]
  /** The facts of the scrape in progress, read once before the registry asks each gauge. */
  let facts: ServerFacts | undefined
  let alerts: AlertDto[] = []

  const exchanges = new Counter({
    name: 'gatehouse_exchanges_total', help: 'Exchanges handled, by side (client: the consumer\'s server, producer: the provider\'s), client, service and outcome.',
    labelNames: ['side', 'client', 'service', 'outcome'], registers,
  })
  const failures = new Counter({
    name: 'gatehouse_exchange_failures_total', help: 'Failed exchanges by side and X-Road fault code.', labelNames: ['side', 'fault_code'], registers,
  })
  const duration = new Histogram({
    name: 'gatehouse_exchange_duration_seconds', help: 'Time from the request arriving to the response leaving this server.',
    labelNames: ['side', 'service'], buckets: DURATION_BUCKETS, registers,
  })
  const upstream = new Histogram({
    name: 'gatehouse_exchange_upstream_duration_seconds',
    help: 'Time the other party took: the provider\'s server (client side) or the service itself (producer side).',
    labelNames: ['side', 'service'], buckets: DURATION_BUCKETS, registers,
  })
  const requestBytes = new Counter({ name: 'gatehouse_exchange_request_bytes_total', help: 'Bytes of requests received.', labelNames: ['side'], registers })
  const responseBytes = new Counter({ name: 'gatehouse_exchange_response_bytes_total', help: 'Bytes of responses sent.', labelNames: ['side'], registers })

  /** A gauge set from the scrape's facts; series that no longer exist are dropped. */
  const gauge = (name: string, help: string, labelNames: string[], set: (g: Gauge<string>, f: ServerFacts) => void): Metric<string> =>
    new Gauge({
      name, help, labelNames, registers,
      collect() {
        this.reset()
        // A gauge without labels starts at 0 after a reset; a fact that is not known (no forecast yet) has no sample.
        if (labelNames.length === 0) this.remove()
        if (facts !== undefined) set(this, facts)
      },
    })

  gauge('gatehouse_build_info', 'Gatehouse version (always 1).', ['version'], (g) => g.set({ version: deps.version }, 1))
  gauge('gatehouse_ready', 'Whether messages can flow: 1 when no readiness area is red (or gray).', [], (g, f) =>
    g.set(f.readiness.length > 0 && f.readiness.every((c) => c.light === 'green' || c.light === 'yellow') ? 1 : 0))
  gauge('gatehouse_readiness', 'Readiness per area: 1 for the area\'s current state (green, yellow, red, gray), 0 for the others.', ['area', 'state', 'code'], (g, f) => {
    for (const check of f.readiness) {
      for (const state of READINESS_STATES) g.set({ area: check.key, state, code: check.code }, check.light === state ? 1 : 0)
    }
  })
  const inUse = (f: ServerFacts) => f.certificates.filter((c) => IN_USE.has(c.state))
  gauge('gatehouse_certificate_expiry_seconds', 'Seconds until a certificate in use expires (negative once expired).', ['certificate', 'usage', 'subject'], (g, f) => {
    for (const c of inUse(f)) g.set({ certificate: c.id, usage: c.usage ?? '', subject: c.subject }, (Date.parse(c.notAfter) - f.now.getTime()) / 1000)
  })
  gauge('gatehouse_ocsp_response_age_seconds', 'Age of the OCSP response of a certificate in use (since its thisUpdate).', ['certificate', 'usage'], (g, f) => {
    for (const c of inUse(f)) if (c.ocsp.thisUpdate !== undefined) g.set({ certificate: c.id, usage: c.usage ?? '' }, (f.now.getTime() - Date.parse(c.ocsp.thisUpdate)) / 1000)
  })
  gauge('gatehouse_ocsp_good', 'Whether a certificate in use has a fresh good OCSP response (1) or not (0).', ['certificate', 'usage', 'status'], (g, f) => {
    for (const c of inUse(f)) g.set({ certificate: c.id, usage: c.usage ?? '', status: c.ocsp.status }, c.ocsp.status === 'good' ? 1 : 0)
  })
  gauge('gatehouse_token_logged_in', 'Whether a token is logged in (1) or not (0).', ['token', 'label', 'kind'], (g, f) => {
    for (const t of f.tokens) g.set({ token: t.id, label: t.label, kind: t.kind }, t.loggedIn ? 1 : 0)
  })
  gauge('gatehouse_token_available', 'Whether a token\'s device can be reached (1) or not (0).', ['token', 'label', 'kind'], (g, f) => {
    for (const t of f.tokens) g.set({ token: t.id, label: t.label, kind: t.kind }, t.available ? 1 : 0)
  })
  gauge('gatehouse_messagelog_timestamp_backlog_records', 'Message-log records waiting for a time-stamp (capped by the count).', [], (g, f) => {
    if (f.timestamping !== undefined) g.set(f.timestamping.backlog)
  })
  gauge('gatehouse_messagelog_accepting_messages', 'Whether the message log accepts messages (0 once time-stamping failed longer than allowed).', [], (g, f) => {
    if (f.timestamping !== undefined) g.set(f.timestamping.acceptingMessages ? 1 : 0)
  })
  gauge('gatehouse_timestamping_last_success_age_seconds', 'Seconds since the last successful time-stamp.', [], (g, f) => {
    const last = f.timestamping?.lastSuccessAt
    if (last !== null && last !== undefined) g.set((f.now.getTime() - Date.parse(last)) / 1000)
  })
  gauge('gatehouse_timestamping_fail_closed_in_seconds', 'While time-stamping fails: seconds until traffic stops (fail-closed).', [], (g, f) => {
    const t = f.timestamping
    if (t !== undefined && t.failingSince !== null && t.secondsLeft !== null) g.set(t.secondsLeft)
  })
  gauge('gatehouse_global_conf_expiry_seconds', 'Seconds until the global configuration in force expires.', [], (g, f) => {
    const s = f.globalConf?.expiresInSeconds
    if (s !== null && s !== undefined) g.set(s)
  })
  gauge('gatehouse_disk_free_bytes', 'Free bytes on the volume of the message log.', [], (g, f) => {
    if (f.disk !== undefined) g.set(f.disk.freeBytes)
  })
  gauge('gatehouse_disk_full_forecast_seconds', 'Seconds until the message log\'s volume is full at the recent logging rate.', [], (g, f) => {
    if (f.disk?.daysUntilFull !== null && f.disk?.daysUntilFull !== undefined) g.set(f.disk.daysUntilFull * 86_400)
  })
  new Gauge({
    name: 'gatehouse_alerts_active', help: 'Active alerts by severity.', labelNames: ['severity'], registers,
    collect() {
      this.reset()
      for (const severity of ['critical', 'warning', 'info']) this.set({ severity }, alerts.filter((a) => a.severity === severity).length)
    },
  })
  new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', registers, collect() { this.set(process.memoryUsage.rss()) } })
  new Gauge({ name: 'process_heap_bytes', help: 'JavaScript heap in use, in bytes.', registers, collect() { this.set(process.memoryUsage().heapUsed) } })
  new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, in seconds.', registers, collect() { this.set(PROCESS_START_S) } })
  let cpuSeconds = 0
  new Counter({
    name: 'process_cpu_seconds_total', help: 'User and system CPU time spent, in seconds.', registers,
    collect() {
      const usage = process.cpuUsage()
      const total = (usage.user + usage.system) / 1e6
      if (total > cpuSeconds) this.inc(total - cpuSeconds)
      cpuSeconds = Math.max(cpuSeconds, total)
    },
  })

  /** A count the proxy runtime keeps since its start, as a counter (a runtime started again counts on from there). */
  const runtimeTotal = (name: string, help: string, read: (counts: TlsConnectionCounts) => number): void => {
    let seen = 0
    new Counter({
      name, help, registers,
      collect() {
        const counts = facts?.tlsConnections
        if (counts === undefined) return
        const value = read(counts)
        if (value > seen) this.inc(value - seen)
        seen = value
      },
    })
  }
  runtimeTotal('gatehouse_peer_tls_connections_opened_total', 'TLS connections opened to other security servers (each one a handshake; pooled connections carry many messages).', (c) => c.peerOpened)
  runtimeTotal('gatehouse_serverproxy_tls_connections_accepted_total', 'TLS connections accepted by the server proxy from other security servers.', (c) => c.serverProxyAccepted)

  const declaredNames = new Map(text.getMetricsAsArray().map((m) => [m, (m as unknown as { name: string }).name] as const))

  const observer: ExchangeObserver = {
    observe(o) {
      const side = o.side === 'client' ? 'client' : 'producer'
      const service = o.serviceId === undefined ? 'unknown' : formatIdPath(o.serviceId)
      const client = o.clientId === undefined ? 'unknown' : formatIdPath(o.clientId)
      exchanges.inc({ side, client, service, outcome: o.succeeded ? 'success' : 'failure' })
      if (!o.succeeded) failures.inc({ side, fault_code: o.faultCode ?? 'unknown' })
      duration.observe({ side, service }, Math.max(0, o.responseOutTs - o.requestInTs) / 1000)
      if (o.requestOutTs !== undefined && o.responseInTs !== undefined) upstream.observe({ side, service }, Math.max(0, o.responseInTs - o.requestOutTs) / 1000)
      requestBytes.inc({ side }, o.requestSize)
      if (o.responseSize !== undefined) responseBytes.inc({ side }, o.responseSize)
    },
  }

  // One scrape at a time: the gauges read the facts of their own scrape.
  let queue: Promise<unknown> = Promise.resolve()
  return {
    observer,
    scrape(accept) {
      const run = queue.then(async () => {
        facts = await deps.facts.read()
        alerts = deps.activeAlerts()
        const registry = wantsOpenMetrics(accept) ? openMetrics : text
        // prom-client renames a counter (drops `_total`) in place when an OpenMetrics registry renders it; the text
        // format needs the name as declared. Scrapes run one at a time, so restoring it first is enough.
        for (const [metric, name] of declaredNames) (metric as { name: string }).name = name
        try {
          return { contentType: registry.contentType, body: await registry.metrics() }
        } finally {
          facts = undefined
        }
      })
      queue = run.catch(() => undefined)
      return run
    },
  }
}
