import 'reflect-metadata'
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLabPair, type LabPair } from '../integration/lab-pair'
import { adminPortOf, adminRequest, apiKeyFor } from '../support/admin-https'
import { PROMTOOL, itWith } from '../support/requirements'

/**
 * `/metrics` on the admin HTTPS listener of a real lab server after real exchanges: authenticated (API key or session,
 * any role), the exchange counters and latency histograms filled by the exchange observer, the operator's gauges
 * (readiness, certificates, OCSP, tokens, time-stamping, disk), Prometheus text validated by Debian's `promtool check
 * metrics`, OpenMetrics when asked for.
 */
const SENT = 12

describe('OpenMetrics endpoint', () => {
  let pair: LabPair
  let port: number
  let key: string
  let text = ''
  const scrapeMs: number[] = []

  beforeAll(async () => {
    pair = await startLabPair({ adminPort: 0 })
    port = await adminPortOf(pair.consumer.server)
    key = (await apiKeyFor(pair.consumer.server, ['observer'])).header
    for (let i = 0; i < SENT; i++) {
      const response = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/pets/pets/${i}`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
      expect(response.status).toBe(200)
      await response.text()
    }
    const denied = await fetch(`${pair.consumer.clientProxyUrl}/r1/LAB/GOV/2002/provider/nothing-here/x`, { headers: { 'X-Road-Client': 'LAB/GOV/1001/consumer' } })
    expect(denied.status).toBeGreaterThanOrEqual(400)
    await denied.text()
  }, 120_000)

  afterAll(async () => {
    await pair?.close()
    if (scrapeMs.length > 0) console.log(`metrics scrape: ${scrapeMs.map((ms) => ms.toFixed(1)).join(', ')} ms`)
  })

  async function scrape(accept?: string) {
    const started = performance.now()
    const reply = await adminRequest(port, 'GET', '/metrics', { authorization: key, ...(accept === undefined ? {} : { accept }) })
    scrapeMs.push(performance.now() - started)
    return reply
  }

  it('refuses a scrape without credentials or with a wrong key', async () => {
    expect((await adminRequest(port, 'GET', '/metrics')).status).toBe(401)
    expect((await adminRequest(port, 'GET', '/metrics', { authorization: 'X-Road-ApiKey token=wrong' })).status).toBe(401)
    expect((await adminRequest(port, 'POST', '/metrics', { authorization: key })).status).toBe(405)
  })

  it('counts the exchanges by side, client, service and outcome, with latency histograms', async () => {
    const reply = await scrape()
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    text = reply.body
    const client = 'client="LAB/GOV/1001/consumer"'
    const service = 'service="LAB/GOV/2002/provider/pets"'
    expect(text).toContain(`gatehouse_exchanges_total{side="client",${client},${service},outcome="success"} ${SENT}`)
    expect(text).toMatch(/gatehouse_exchanges_total\{side="client",client="LAB\/GOV\/1001\/consumer",service="LAB\/GOV\/2002\/provider\/nothing-here",outcome="failure"\} 1/)
    expect(text).toMatch(/gatehouse_exchange_failures_total\{side="client",fault_code="[^"]+"\} 1/)
    expect(text).toContain(`gatehouse_exchange_duration_seconds_count{side="client",${service}} ${SENT}`)
    expect(text).toContain(`gatehouse_exchange_duration_seconds_bucket{le="+Inf",side="client",${service}} ${SENT}`)
    expect(text).toContain(`gatehouse_exchange_upstream_duration_seconds_count{side="client",${service}} ${SENT}`)
  })

  it('reports readiness, certificates, OCSP, tokens, time-stamping and the disk forecast', () => {
    expect(text).toMatch(/^gatehouse_ready 1$/m)
    for (const area of ['configuration', 'listeners', 'authentication', 'signing', 'registration', 'timestamping']) {
      expect(text).toMatch(new RegExp(`^gatehouse_readiness\\{area="${area}",state="green",code="[a-z-]+"\\} 1$`, 'm'))
    }
    const expiry = [...text.matchAll(/^gatehouse_certificate_expiry_seconds\{certificate="[^"]+",usage="(auth|sign)",subject="[^"]+"\} (\S+)$/gm)]
    expect(expiry.map((m) => m[1]).sort()).toEqual(['auth', 'sign'])
    for (const m of expiry) expect(Number(m[2])).toBeGreaterThan(86_400)
    expect(text).toMatch(/^gatehouse_ocsp_good\{certificate="[^"]+",usage="auth",status="good"\} 1$/m)
    expect(text).toMatch(/^gatehouse_ocsp_response_age_seconds\{certificate="[^"]+",usage="sign"\} \d/m)
    expect(text).toMatch(/^gatehouse_token_logged_in\{token="[^"]+",label="[^"]*",kind="software"\} 1$/m)
    expect(text).toMatch(/^gatehouse_messagelog_timestamp_backlog_records \d+$/m)
    expect(text).toMatch(/^gatehouse_messagelog_accepting_messages 1$/m)
    expect(text).toMatch(/^gatehouse_global_conf_expiry_seconds \d/m)
    expect(text).toMatch(/^gatehouse_disk_free_bytes \d/m)
    // Unknown facts have no sample rather than a misleading 0: no forecast before anything was logged in its window,
    // no fail-closed countdown while time-stamping works.
    expect(text).not.toMatch(/^gatehouse_disk_full_forecast_seconds 0$/m)
    expect(text).toContain('# TYPE gatehouse_timestamping_fail_closed_in_seconds gauge')
    expect(text).not.toMatch(/^gatehouse_timestamping_fail_closed_in_seconds /m)
    expect(text).toMatch(/^gatehouse_alerts_active\{severity="critical"\} 0$/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d/m)
    // The consumer's sequential exchanges share pooled connections to the provider; nobody connected to its server proxy.
    const opened = Number(/^gatehouse_peer_tls_connections_opened_total (\d+)$/m.exec(text)?.[1])
    expect(opened).toBeGreaterThanOrEqual(1)
    expect(opened).toBeLessThan(SENT)
    expect(text).toMatch(/^gatehouse_serverproxy_tls_connections_accepted_total 0$/m)
  })

  itWith([PROMTOOL], 'passes promtool check metrics', () => {
    expect(text.length).toBeGreaterThan(1000)
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    expect({ status: checked.status, out: `${checked.stdout}${checked.stderr}` }).toEqual({ status: 0, out: '' })
  })

  itWith([PROMTOOL], 'promtool catches what it is there to catch (a gauge named like a counter)', () => {
    const bad = `${text}# HELP gatehouse_bad_total A gauge.\n# TYPE gatehouse_bad_total gauge\ngatehouse_bad_total 1\n`
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: bad, encoding: 'utf8' })
    expect(checked.status).not.toBe(0)
    expect(`${checked.stdout}${checked.stderr}`).toContain('gatehouse_bad_total')
  })

  it('answers OpenMetrics 1.0 when the scraper asks for it', async () => {
    const reply = await scrape('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5')
    expect(reply.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8')
    const om = reply.body
    expect(om.endsWith('# EOF\n')).toBe(true)
    // OpenMetrics: a counter family is named without `_total`, its samples with it; every sample belongs to a declared family.
    expect(om).toContain('# TYPE gatehouse_exchanges counter')
    const families = new Map([...om.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]))
    expect(families.size).toBe(new Set([...om.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1])).size)
    for (const [, name] of om.matchAll(/^([a-z_:][a-z0-9_:]*)(?:\{| )/gm)) {
      const family = [...families.keys()].find((f) => name === f || (name as string).startsWith(`${f}_`))
      expect(family, `sample ${name} has no family`).toBeDefined()
      if (families.get(family as string) === 'counter') expect(name).toMatch(/_(total|created)$/)
    }
  })

  it('lets a signed-in browser session scrape too, whatever its role', async () => {
    await pair.consumer.server.admin.users.add({ username: 'watcher', password: 'watching-the-gauges-42', roles: ['observer'] })
    const login = await adminRequest(port, 'POST', '/api/session/login', {}, { username: 'watcher', password: 'watching-the-gauges-42' })
    const cookie = String((login.headers['set-cookie'] as string[])[0]).split(';')[0] as string
    const reply = await adminRequest(port, 'GET', '/metrics', { cookie })
    expect(reply.status).toBe(200)
    expect(reply.body).toContain('gatehouse_exchanges_total')
  })
})
