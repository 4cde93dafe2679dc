import { describe, expect, it, vi } from 'vitest'
import { parseCleanInterval, parseMetricsRequest, parseOperationalDataRequest } from '../../src-main/op-monitoring'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * Monitoring requests from other members (`op-monitoring/queries/query-request-parser.ts`) and the clean-interval cron
 * expression an administrator types (`op-monitoring/clean-schedule.ts`): adversarial shapes are refused with a coded,
 * bounded error, or read, in time comparable to a benign input of the same size. Bounds: O(n) each.
 */
// The bound under test is the ratio to the benign input; a loaded machine may only make the whole run slower.
vi.setConfig({ testTimeout: 180_000 })

const SIZE = 900 * 1024

function request(inner: string): string {
  return '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:om="http://x-road.eu/xsd/op-monitoring.xsd" xmlns:m="http://x-road.eu/xsd/monitoring"><SOAP-ENV:Body>' +
    `<om:getSecurityServerOperationalData><om:searchCriteria><om:recordsFrom>1</om:recordsFrom><om:recordsTo>2</om:recordsTo></om:searchCriteria>${inner}` +
    '</om:getSecurityServerOperationalData></SOAP-ENV:Body></SOAP-ENV:Envelope>'
}

/** One output field whose name fills the request: the parser reads it, the query would refuse the name. */
const benign = request(`<om:outputSpec><om:outputField>${'a'.repeat(SIZE)}</om:outputField></om:outputSpec>`)
const field = '<om:outputField>requestInTs</om:outputField>'

describe('monitoring requests: bounded while read', () => {
  it('refuses more elements than a query holds', async () => {
    const many = request(`<om:outputSpec>${field.repeat(Math.floor(SIZE / field.length))}</om:outputSpec>`)
    const { adversarial } = await compareWithBenign('many output fields', () => parseOperationalDataRequest(many), () => parseOperationalDataRequest(benign))
    expectRefusal(adversarial, 'invalid_xml')
  })

  it('refuses deep nesting inside the body', async () => {
    const depth = Math.floor(SIZE / 10)
    const deep = request(`<om:outputSpec>${'<m:x>'.repeat(depth)}${'</m:x>'.repeat(depth)}</om:outputSpec>`)
    const { adversarial } = await compareWithBenign('deep body', () => parseOperationalDataRequest(deep), () => parseOperationalDataRequest(benign))
    expectRefusal(adversarial, 'invalid_xml')
  })

  it('refuses a request over the size a query may have before reading it', async () => {
    const big = request(`<om:outputSpec><om:outputField>${'a'.repeat(2 * SIZE)}</om:outputField></om:outputSpec>`)
    const { adversarial } = await compareWithBenign('oversized request', () => parseOperationalDataRequest(big), () => parseOperationalDataRequest(benign))
    expectRefusal(adversarial, 'invalid_xml')
  })

  it('reads a number of 25 digits and refuses one of 10 000 without quoting it whole', async () => {
    const digits = request('').replace('<om:recordsTo>2', `<om:recordsTo>${'9'.repeat(10_000)}`)
    const { adversarial } = await compareWithBenign('long number', () => parseOperationalDataRequest(digits), () => parseOperationalDataRequest(benign))
    expectRefusal(adversarial, 'client.invalid_request', 200)
    expect(parseOperationalDataRequest(request('').replace('<om:recordsTo>2', `<om:recordsTo>${'0'.repeat(24)}7`)).recordsTo).toBe(7)
  })

  it('reads the metric names of a large metrics request in one pass', async () => {
    const names = `<m:getSecurityServerMetrics><m:outputSpec>${'<m:outputField>OperatingSystem</m:outputField>'.repeat(9_000)}</m:outputSpec></m:getSecurityServerMetrics>`
    const metrics = request('').replace(/<om:getSecurityServerOperationalData>.*<\/om:getSecurityServerOperationalData>/, names)
    // As many elements of another name: building the DOM costs the same, only the look-up differs.
    const sameSize = metrics.replaceAll('m:outputField>', 'm:otherFields>')
    const { adversarial } = await compareWithBenign('many metric names', () => parseMetricsRequest(metrics), () => parseMetricsRequest(sameSize))
    expect(adversarial.error).toBeUndefined()
  })
})

describe('clean-interval: bounded expression', () => {
  it('refuses an expression longer than any schedule needs, without quoting it', () => {
    expect(() => parseCleanInterval(`0 0 ${'1,'.repeat(10_000)}2 * * ?`)).toThrow(/too long/)
    expect(parseCleanInterval('0 0 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 * * ?').expression).toContain('23')
  })
})
