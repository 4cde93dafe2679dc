import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { MAX_OPENAPI_ENDPOINTS, MAX_WSDL_SERVICES, parseOpenApi, parseWsdl, WSDL_LIMITS } from '../../src-main/server-conf'
import { compareWithBenign, expectRefusal } from './support/bounded-time'

/**
 * Service descriptions from outside (`server-conf/wsdl-parser.ts`, `openapi-parser.ts`): hostile WSDLs (XXE, entity
 * expansion, 10 000 operations, deep nesting) and OpenAPI documents (deep nesting, too many operations) are refused
 * with `invalid_wsdl` / `openapi_parsing_error` and a bounded message, in time comparable to a benign description of
 * the same size. Bound: the O(n) XML scan or JSON pre-scan, then a walk linear in the elements or paths.
 */
vi.setConfig({ testTimeout: 180_000 })

const FIXTURES = join(__dirname, '..', 'fixtures', 'service-descriptions')
const SIZE = 700 * 1024

const HEAD = `<?xml version="1.0"?><wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
 xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:tns="urn:t" targetNamespace="urn:t">`
const TAIL = `<wsdl:service name="s"><wsdl:port name="p" binding="tns:b"><soap:address location="http://127.0.0.1/x"/></wsdl:port></wsdl:service></wsdl:definitions>`

function wsdlWithOperations(count: number): string {
  const op = (i: number) => `<wsdl:operation name="op${i}"><xrd:version>v1</xrd:version><wsdl:input><soap:body use="literal"/></wsdl:input></wsdl:operation>`
  let ops = ''
  for (let i = 0; i < count; i++) ops += op(i)
  return `${HEAD}<wsdl:binding name="b" type="tns:pt"><soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>${ops}</wsdl:binding>${TAIL}`
}

/** A realistic WSDL of about `bytes`: a few operations and a large schema of documentation. */
function benignWsdl(bytes: number): string {
  const doc = '<wsdl:documentation>A field of the register, described at length for the people who read it.</wsdl:documentation>'
  const schema = `<wsdl:types>${doc.repeat(Math.ceil(bytes / doc.length))}</wsdl:types>`
  return wsdlWithOperations(20).replace('<wsdl:binding', `${schema}<wsdl:binding`)
}

describe('WSDL: hostile descriptions against a benign one of the same size', () => {
  it('refuses 10 000 operations', async () => {
    const hostile = wsdlWithOperations(10_000)
    const benign = benignWsdl(hostile.length)
    const { adversarial } = await compareWithBenign('wsdl 10000 operations', () => parseWsdl(hostile), () => parseWsdl(benign))
    expectRefusal(adversarial, 'invalid_wsdl')
    expect((adversarial.error as Error).message).toContain(`more than ${MAX_WSDL_SERVICES} services`)
  })

  it('refuses nesting deeper than the limit', async () => {
    const depth = WSDL_LIMITS.maxDepth + 1
    const deep = `${HEAD}${'<wsdl:documentation>'.repeat(depth)}${'</wsdl:documentation>'.repeat(depth)}${TAIL}`
    const hostile = deep.replace('</wsdl:definitions>', `<!--${' '.repeat(SIZE)}--></wsdl:definitions>`)
    const benign = benignWsdl(hostile.length)
    const { adversarial } = await compareWithBenign('wsdl deep nesting', () => parseWsdl(hostile), () => parseWsdl(benign))
    expectRefusal(adversarial, 'invalid_wsdl')
  })

  it('refuses entity expansion (billion laughs) and XXE before anything is expanded or fetched', async () => {
    for (const name of ['billion-laughs.wsdl', 'xxe.wsdl']) {
      const hostile = readFileSync(join(FIXTURES, name), 'utf8').replace('</wsdl:definitions>', `<!--${' '.repeat(SIZE)}--></wsdl:definitions>`)
      const benign = benignWsdl(hostile.length)
      const { adversarial } = await compareWithBenign(`wsdl ${name}`, () => parseWsdl(hostile), () => parseWsdl(benign))
      expectRefusal(adversarial, 'invalid_wsdl')
    }
  })
})

describe('OpenAPI: hostile descriptions against a benign one of the same size', () => {
  const source = { url: 'http://127.0.0.1/openapi.json', name: 'openapi.json' }
  const benignOpenApi = (bytes: number): string => {
    const path = (i: number) => `"/items/${i}/{id}": {"get": {"summary": "${'An item of the register. '.repeat(4)}", "responses": {"200": {"description": "ok"}}}}`
    const paths: string[] = []
    let size = 0
    for (let i = 0; size < bytes; i++) {
      const p = path(i % 500)
      paths.push(p.replace(`/items/${i % 500}/`, `/items/${i}/`))
      size += p.length
      if (paths.length >= MAX_OPENAPI_ENDPOINTS) break
    }
    const filler = ' '.repeat(Math.max(0, bytes - size))
    return `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "servers": [{"url": "/"}], "paths": {${paths.join(',')}}${filler}}`
  }

  it('refuses nesting deeper than the limit', async () => {
    const hostile = `{"openapi": "3.0.0", "x": ${'['.repeat(10_000)}${']'.repeat(10_000)}${' '.repeat(SIZE)}}`
    const benign = benignOpenApi(hostile.length)
    const { adversarial } = await compareWithBenign('openapi deep nesting', () => parseOpenApi(hostile, source), () => parseOpenApi(benign, source))
    expectRefusal(adversarial, 'openapi_parsing_error')
  })

  it('refuses deep YAML nesting, in flow and in block form', async () => {
    const benign = benignOpenApi(SIZE)
    const flow = `openapi: 3.0.0\nx: ${'['.repeat(SIZE / 2)}${']'.repeat(SIZE / 2)}\n`
    expectRefusal((await compareWithBenign('openapi yaml deep flow', () => parseOpenApi(flow, source), () => parseOpenApi(benign, source))).adversarial, 'openapi_parsing_error')
    const block = `openapi: 3.0.0\n${Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')}\n`
    expectRefusal((await compareWithBenign('openapi yaml deep block', () => parseOpenApi(block, source), () => parseOpenApi(benignOpenApi(block.length), source))).adversarial, 'openapi_parsing_error')
  })

  it('refuses a YAML alias bomb instead of expanding it', async () => {
    const levels = Array.from({ length: 12 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array.from({ length: 10 }, () => `*l${i}`).join(', ')}]`)
    const bomb = `openapi: 3.0.0\nl0: &l0 lol\n${levels.join('\n')}\n`
    const { adversarial } = await compareWithBenign('openapi yaml alias bomb', () => parseOpenApi(bomb, source), () => parseOpenApi(benignOpenApi(bomb.length), source))
    expectRefusal(adversarial, 'openapi_parsing_error')
  })

  it('refuses more operations than the limit', async () => {
    const paths = Array.from({ length: MAX_OPENAPI_ENDPOINTS + 1 }, (_, i) => `"/p${i}": {"get": {}}`).join(',')
    const body = `{"openapi": "3.0.0", "info": {}, "paths": {${paths}}`
    const hostile = `${body}${' '.repeat(Math.max(0, SIZE - body.length))}}`
    const benign = benignOpenApi(hostile.length)
    const { adversarial } = await compareWithBenign('openapi too many operations', () => parseOpenApi(hostile, source), () => parseOpenApi(benign, source))
    expectRefusal(adversarial, 'openapi_parsing_error')
  })
})
