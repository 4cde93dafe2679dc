import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { closeDatabase, openDatabase } from '../../src-main/platform'
import { splitMultipart } from '../../src-main/proxy'
import { decodeSoapMessage, type SoapMessage } from '../../src-main/soap'
import { SOFTWARE_TOKEN_ID, createSigner, type TokenDriver } from '../../src-main/signer'
import {
  MIXED_SIZES, SOAP_MULTIPART_TYPE, SOAP_OPERATION, cpuMeter, durabilityFloorMs, mixedComposition, mixedRequestAt, mixedSizeCycle,
  parseProcStatCpuTicks, processCpuMs, soapRequestAt, soapServiceAnswer, throttledDriver, type SoapTarget,
} from '../../scripts/bench/bench-support'
import { GATEHOUSE_BIN, GATEHOUSE_NODE_ENV, GATEHOUSE_NODE_FLAGS } from '../../scripts/lib/processes'

/**
 * The benchmark's measuring parts (scripts/bench/bench-support.ts): what they count and build, never how fast
 * anything is — performance figures live only in `npm run bench`.
 */
const dirs: string[] = []
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-test-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('CPU time from /proc', () => {
  it('reads utime + stime after the command name, whatever the name holds', () => {
    const fields = ['S', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '250', '40', '0', '0']
    expect(parseProcStatCpuTicks(`4242 (node (a) b) ${fields.join(' ')}`)).toBe(290)
    expect(() => parseProcStatCpuTicks('4242 (x) S 1')).toThrow(/unexpected/)
  })

  it('counts the CPU a process spends inside the window only', () => {
    const meter = cpuMeter([process.pid])
    const before = processCpuMs(process.pid)
    meter.start()
    const until = performance.now() + 80
    let spin = 0
    while (performance.now() < until) spin++
    meter.stop()
    expect(spin).toBeGreaterThan(0)
    expect(meter.ms()).toBeGreaterThan(0)
    expect(processCpuMs(process.pid)).toBeGreaterThanOrEqual(before + meter.ms())
  })

  it('adds up its windows and leaves out what is spent between them', () => {
    const meter = cpuMeter([process.pid])
    const spin = (ms: number): void => {
      const until = performance.now() + ms
      while (performance.now() < until);
    }
    meter.start()
    spin(40)
    meter.stop()
    const afterOne = meter.ms()
    spin(300)
    meter.start()
    spin(40)
    meter.stop()
    expect(meter.ms()).toBeGreaterThan(afterOne)
    // CPU cannot outrun the clock: 80 ms of windows (plus a clock tick each) cannot hold the 300 ms between them.
    expect(meter.ms()).toBeLessThan(200)
  })
})

describe('durability floor', () => {
  it('times four commits on a synchronous=FULL database in the given folder and leaves nothing behind', () => {
    const dir = tempDir()
    const ms = durabilityFloorMs(dir, 3)
    expect(ms).toBeGreaterThan(0)
    expect(readdirSync(dir)).toEqual([])
  })

  it('opens the database as the message log is opened (synchronous=FULL, WAL)', () => {
    const db = openDatabase(join(tempDir(), 'probe.sqlite'), { synchronous: 'FULL' })
    expect(Number(db.pragma('synchronous', { simple: true }))).toBe(2)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    closeDatabase(db)
  })
})

describe('mixed-size workload', () => {
  it('holds X-Road\'s mix exactly in one cycle of 1 000 requests', () => {
    const cycle = mixedSizeCycle()
    expect(cycle).toHaveLength(1000)
    for (const size of MIXED_SIZES) expect(cycle.filter((b) => b === size.bytes)).toHaveLength(size.perMille)
    expect(mixedComposition(1000)).toEqual({ 2048: 300, 10240: 600, 102400: 90, 2097152: 9, 10485760: 1 })
  })

  it('keeps every prefix close to the mix, and gives the n-th body its size', () => {
    const hundred = mixedComposition(100)
    expect(hundred['2048']).toBeGreaterThanOrEqual(29)
    expect(hundred['2048']).toBeLessThanOrEqual(31)
    expect(hundred['10240']).toBeGreaterThanOrEqual(59)
    expect(hundred['10240']).toBeLessThanOrEqual(61)
    const at = mixedRequestAt()
    const cycle = mixedSizeCycle()
    for (const i of [0, 1, 7, 999, 1000, 1234]) expect(at(i).body.length).toBe(cycle[i % 1000])
  })
})

describe('SOAP requests and the bench SOAP service', () => {
  const target: SoapTarget = {
    client: { instance: 'LAB', memberClass: 'GOV', memberCode: '1001', subsystemCode: 'consumer' },
    service: { instance: 'LAB', memberClass: 'GOV', memberCode: '2002', subsystemCode: 'provider' },
  }

  const decode = (contentType: string, body: Buffer) => decodeSoapMessage(contentType, body, splitMultipart)

  it('builds a 1 KB X-Road 4.0 envelope with its own id per request', () => {
    const at = soapRequestAt(target, 'tst', { envelopeBytes: 1024 })
    const first = at(0).body
    expect(first.length).toBe(1024)
    const decoded = decode('text/xml; charset=UTF-8', first)
    const soap = decoded.soap as SoapMessage
    expect(soap.kind).toBe('message')
    expect(soap.header).toMatchObject({
      client: { objectType: 'SUBSYSTEM', xRoadInstance: 'LAB', memberCode: '1001', subsystemCode: 'consumer' },
      service: { objectType: 'SERVICE', memberCode: '2002', subsystemCode: 'provider', serviceCode: SOAP_OPERATION, serviceVersion: 'v1' },
      protocolVersion: '4.0',
    })
    expect(soap.serviceName).toBe(SOAP_OPERATION)
    const second = decode('text/xml; charset=UTF-8', at(1).body).soap as SoapMessage
    expect(second.header.id).not.toBe(soap.header.id)
    expect(soap.header.id).toHaveLength(24)
  })

  it('builds SOAP with a 100 KB attachment as multipart/related', () => {
    const body = soapRequestAt(target, 'tst', { envelopeBytes: 1024, attachmentBytes: 100 * 1024 })(3).body
    const decoded = decode(SOAP_MULTIPART_TYPE, body)
    expect((decoded.soap as SoapMessage).bytes.length).toBe(1024)
    expect(decoded.attachments).toHaveLength(1)
    expect(decoded.attachments[0]!.body.length).toBe(100 * 1024)
  })

  it('answers with the request\'s own header and an echo of its value; refuses what is no envelope', () => {
    const request = soapRequestAt(target, 'tst', { envelopeBytes: 1024, attachmentBytes: 1000 })(5).body
    const answer = soapServiceAnswer(request.subarray(0, 4096)) as Buffer
    const response = decode('text/xml; charset=UTF-8', answer).soap as SoapMessage
    const sent = decode(SOAP_MULTIPART_TYPE, request).soap as SoapMessage
    expect(response.header).toEqual(sent.header)
    expect(response.serviceName).toBe(`${SOAP_OPERATION}Response`)
    expect(answer.toString()).toMatch(/<echo>x+<\/echo>/)
    expect(soapServiceAnswer(Buffer.from('{"not":"soap"}'))).toBeUndefined()
  })
})

describe('the slow token', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  const fakeDriver = (signed: number[], now: () => number): TokenDriver => ({
    status: async () => ({ available: true, loggedIn: true }),
    sign: async () => {
      signed.push(now())
      return new Uint8Array([1])
    },
  }) as unknown as TokenDriver

  it('starts at most the given number of signatures a second, one slot after another, and passes everything else through', async () => {
    vi.useFakeTimers()
    const now = (): number => Date.now()
    const signed: number[] = []
    const token = throttledDriver(fakeDriver(signed, now), 10, now)
    const start = now()
    const all = Promise.all(Array.from({ length: 4 }, () => token.sign('k', 'ecdsa-sha256', new Uint8Array(32))))
    await vi.advanceTimersByTimeAsync(1000)
    await all
    expect(signed.map((t) => t - start)).toEqual([0, 100, 200, 300])
    await expect(token.status()).resolves.toMatchObject({ loggedIn: true })
  })

  it('reaches the signer\'s drivers through its wrapDriver dependency: every token signature goes through the wrapper', async () => {
    const dir = tempDir()
    const db = openDatabase(join(dir, 'serverconf.sqlite'))
    const wrapped: TokenDriver[] = []
    let signatures = 0
    const signer = createSigner({
      db, dataDir: dir,
      wrapDriver: (driver) => {
        const throttled = throttledDriver(driver, 1000)
        wrapped.push(throttled)
        return new Proxy(throttled, {
          get: (t, p) => (p === 'sign' ? (...a: Parameters<TokenDriver['sign']>) => (signatures++, t.sign(...a)) : Reflect.get(t, p)),
        })
      },
    })
    try {
      await signer.initSoftwareToken('Token-Pin-1')
      await signer.login(SOFTWARE_TOKEN_ID, 'Token-Pin-1')
      const key = await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'sign', algorithm: 'ec-p256', label: 'sign' })
      await signer.generateCsr({ keyId: key.id, subjectOf: memberId('LAB', 'GOV', '1001'), certificateProfile: 'EjbcaCertificateProfileInfoProvider', format: 'der' })
      expect(wrapped).toHaveLength(1)
      expect(signatures).toBe(1)
      expect(existsSync(join(dir, 'tokens', 'software'))).toBe(true)
    } finally {
      await signer.close()
      closeDatabase(db)
    }
  })
})

describe("bin/gatehouse.js's first line", () => {
  it('runs the CLI with its allocator settings and Node flags, and the scripts start servers with the same', () => {
    expect(GATEHOUSE_NODE_FLAGS).toContain('--max-semi-space-size=8')
    expect(GATEHOUSE_NODE_ENV).toMatchObject({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' })
    // Executed as a program (as npm's bin link runs it), env(1) takes the line apart and sets the variables.
    const version = spawnSync(GATEHOUSE_BIN, ['--version'], { encoding: 'utf8', env: { ...process.env, GATEHOUSE_USE_BUILD: '0' }, timeout: 60_000 })
    expect(version.status, version.stderr).toBe(0)
    const line = readFileSync(GATEHOUSE_BIN, 'utf8').split('\n')[0]!.replace(/^#!\/usr\/bin\/env -S /, '').replace(/ node .*$/, '')
    const seen = spawnSync('/usr/bin/env', ['-S', `${line} ${process.execPath} -p process.env.MALLOC_ARENA_MAX`], { encoding: 'utf8' })
    expect(seen.stdout.trim()).toBe('2')
  })
})
