import { describe, expect, it } from 'vitest'
import { runScript } from '../support/run-script'

/**
 * `npm run demo` in a short form (issue 5 item 7): a lab, two security servers, 20 signed requests through them
 * (one refused for lack of an access right, one to an unknown service), both message logs verified. The counts come
 * from the demo's --json line, the last line of its output.
 */
const REQUESTS = 20


describe('npm run demo', () => {
  it('exchanges signed requests between two servers, refuses the two bad ones with X-Road errors and verifies every logged record', async () => {
    const { code, stdout, stderr } = await runScript('demo.ts', ['--json', '--requests', String(REQUESTS)], 140_000)
    const lines = stdout.trim().split('\n')
    const { operations, registration, soap, metaservices, ...counts } = JSON.parse(lines[lines.length - 1] ?? '{}') as Record<string, number> & {
      operations?: Record<string, boolean>
      registration?: { requests: number; approved: number; viaManagementService: boolean }
      soap?: { sent: number; ok: number; attachments: number }
      metaservices?: Record<string, boolean>
    }
    expect(Object.keys(counts).sort(), stdout + stderr).toEqual(['denied', 'logged', 'ok', 'sent', 'verified'])
    // Issue 16: the health check a load balancer reads answered 200, 503 in maintenance mode, and 200 again; /metrics
    // counted the exchanges (and passed promtool where installed); both audit chains verify; the provider, backed up and
    // restored into a new data directory by `gatehouse restore`, served one more exchange; the consumer's information
    // system got its own exchanges from the provider's getSecurityServerOperationalData.
    expect(operations, stdout + stderr).toMatchObject({ health: true, metrics: true, auditChain: true, backupRestore: true, opmonQuery: true })
    expect(stdout).toMatch(/getSecurityServerOperationalData from the provider: \d+ records .* only the consumer's own/)
    expect(stdout).toMatch(/restored by gatehouse restore .* answered HTTP 200/)
    expect(stdout).toMatch(/probe tsa .* tsa-ok/)
    expect(counts, stdout + stderr).toMatchObject({ sent: REQUESTS + 1, ok: REQUESTS - 1, denied: 1 })
    // Issue 13: both servers and their three subsystems joined through management requests to the lab (2 authCertReg over
    // HTTPS, 3 clientReg through the management security server), all approved by the lab's auto-approval.
    expect(registration, stdout + stderr).toEqual({ requests: 5, approved: 5, viaManagementService: true })
    expect(stdout).toMatch(/registered through the lab's management service: 5 management requests/)
    // Both sides log request and response of every allowed exchange (plus the first, readiness exchange).
    expect(counts.logged).toBeGreaterThanOrEqual(4 * (REQUESTS - 2))
    expect(counts.verified).toBe(counts.logged)
    expect(stdout).toMatch(/X-Road-Error \S*access_denied/i)
    expect(stdout).toMatch(/X-Road-Error \S*unknown_service/i)
    // Issue 12: SOAP through the pair to the sample WSDL operation — plain, with two attachments, MTOM with one — each
    // answer echoing the request's text with its requestHash and the attachments back intact; every metaservice answered.
    expect(soap, stdout + stderr).toEqual({ sent: 3, ok: 3, attachments: 3 })
    expect(metaservices, stdout + stderr).toEqual({ listClients: true, listMethods: true, allowedMethods: true, getWsdl: true, getOpenAPI: true })
    expect(stdout).toMatch(/SOAP MTOM .* multipart\/related, echo "MTOM", requestHash, 1 attachment\(s\) back/)
    expect(stdout).toMatch(/SOAP listMethods +echo\/v1/)
    expect(code, stdout + stderr).toBe(0)
  }, 150_000)
})
