import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { TokenDriver } from '../../src-main/signer'
import { closeDatabase, openDatabase } from '../../src-main/platform'

/** The benchmark's measuring parts, kept apart from its orchestration (bench.ts) so that tests can check them. */

/** Clock ticks per second of /proc/<pid>/stat's CPU times (`getconf CLK_TCK`, 100 on Linux unless configured otherwise). */
let clockTicks: number | undefined
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

/**
 * utime + stime of a process (all its threads: the message-log writer thread included), in milliseconds, from
 * /proc/<pid>/stat (proc(5): fields 14 and 15, counted after the parenthesised command name, which may hold spaces).
 */
export function parseProcStatCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc stat line: ${stat.slice(0, 120)}`)
  return utime + stime
}

export function processCpuMs(pid: number): number {
  return (parseProcStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / ticksPerSecond()
}

/**
 * The CPU time the given processes spend between `start()` and `stop()`, in milliseconds (all of them together),
 * added up over every such window.
 */
export function cpuMeter(pids: readonly number[]): { start(): void; stop(): void; ms(): number } {
  let begin = 0
  let spent = 0
  const total = (): number => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0)
  return {
    start: () => void (begin = total()),
    stop: () => void (spent += total() - begin),
    ms: () => spent,
  }
}

/**
 * The unavoidable part of a c=1 exchange's latency: each exchange waits for four records to be durable one after the
 * other (the consumer's request, the provider's request, the provider's response, the consumer's response; nothing is
 * forwarded or answered before its own record is). Four sequential one-row commits on a database opened as the
 * message log is (`openDatabase` with synchronous=FULL, WAL), in `dir` (the disk the servers' data is on); the median
 * of `rounds` rounds, in milliseconds.
 */
export function durabilityFloorMs(dir: string, rounds = 7): number {
  const path = join(dir, 'durability-floor.sqlite')
  const db = openDatabase(path, { synchronous: 'FULL' })
  const times: number[] = []
  try {
    db.exec('CREATE TABLE record (id INTEGER PRIMARY KEY, body BLOB NOT NULL)')
    const insert = db.prepare('INSERT INTO record (body) VALUES (?)')
    const body = Buffer.alloc(1024, 7)
    for (let r = 0; r < rounds; r++) {
      const t0 = process.hrtime.bigint()
      for (let i = 0; i < 4; i++) insert.run(body)
      times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  } finally {
    closeDatabase(db)
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

/**
 * X-Road's mixed-size workload: 30 % 2 kB, 60 % 10 kB, 9 % 100 kB, 0.9 % 2 MB, 0.1 % 10 MB. One cycle of 1 000
 * sizes holds exactly that mix, interleaved by smooth weighted round robin so that every prefix is close to it.
 */
export const MIXED_SIZES = [
  { bytes: 2 * 1024, perMille: 300 },
  { bytes: 10 * 1024, perMille: 600 },
  { bytes: 100 * 1024, perMille: 90 },
  { bytes: 2 * 1024 * 1024, perMille: 9 },
  { bytes: 10 * 1024 * 1024, perMille: 1 },
] as const

export function mixedSizeCycle(): number[] {
  const current = MIXED_SIZES.map(() => 0)
  const cycle: number[] = []
  for (let n = 0; n < 1000; n++) {
    let best = 0
    for (let i = 0; i < MIXED_SIZES.length; i++) {
      current[i] = (current[i] as number) + MIXED_SIZES[i]!.perMille
      if ((current[i] as number) > (current[best] as number)) best = i
    }
    current[best] = (current[best] as number) - 1000
    cycle.push(MIXED_SIZES[best]!.bytes)
  }
  return cycle
}

/** The n-th request body of the mixed workload (one shared buffer per size: the bytes do not matter, their number does). */
export function mixedRequestAt(): (index: number) => { body: Buffer } {
  const cycle = mixedSizeCycle()
  const bodies = new Map(MIXED_SIZES.map((s) => [s.bytes, Buffer.alloc(s.bytes, 0x61)]))
  return (index) => ({ body: bodies.get(cycle[index % cycle.length] as number) as Buffer })
}

/** How many requests of each size the first `count` requests of the mixed workload hold, keyed by size in bytes. */
export function mixedComposition(count: number): Record<string, number> {
  const cycle = mixedSizeCycle()
  const out: Record<string, number> = {}
  for (const s of MIXED_SIZES) out[String(s.bytes)] = 0
  for (let i = 0; i < count; i++) {
    const key = String(cycle[i % cycle.length])
    out[key] = (out[key] as number) + 1
  }
  return out
}

/** The SOAP service the bench puts behind the provider (soap-service.ts) answers this operation. */
export const SOAP_OPERATION = 'benchEcho'
export const SOAP_SERVICE_VERSION = 'v1'

export interface SoapTarget {
  client: { instance: string; memberClass: string; memberCode: string; subsystemCode: string }
  service: { instance: string; memberClass: string; memberCode: string; subsystemCode: string }
}

/**
 * A SOAP 4.0 request of `totalBytes` bytes (the body's value padded to reach it), split around its message id so
 * that each request gets its own id without rebuilding the rest.
 */
export function soapEnvelopeParts(target: SoapTarget, totalBytes: number): { before: Buffer; after: Buffer } {
  const id = (kind: string, c: SoapTarget['client']): string =>
    `<id:xRoadInstance>${c.instance}</id:xRoadInstance><id:memberClass>${c.memberClass}</id:memberClass><id:memberCode>${c.memberCode}</id:memberCode><id:subsystemCode>${c.subsystemCode}</id:subsystemCode>${kind}`
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xroad="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers"><SOAP-ENV:Header>' +
    `<xroad:client id:objectType="SUBSYSTEM">${id('', target.client)}</xroad:client>` +
    `<xroad:service id:objectType="SERVICE">${id(`<id:serviceCode>${SOAP_OPERATION}</id:serviceCode><id:serviceVersion>${SOAP_SERVICE_VERSION}</id:serviceVersion>`, target.service)}</xroad:service>` +
    '<xroad:id>'
  const tail = (padding: string): string => '</xroad:id><xroad:userId>EE12345678901</xroad:userId><xroad:protocolVersion>4.0</xroad:protocolVersion></SOAP-ENV:Header>' +
    `<SOAP-ENV:Body><b:${SOAP_OPERATION} xmlns:b="urn:gatehouse-bench"><value>${padding}</value></b:${SOAP_OPERATION}></SOAP-ENV:Body></SOAP-ENV:Envelope>\n`
  const idLength = 24
  const padding = Math.max(0, totalBytes - Buffer.byteLength(head) - idLength - Buffer.byteLength(tail('')))
  return { before: Buffer.from(head), after: Buffer.from(tail('x'.repeat(padding))) }
}

/** A 24-character message id for the n-th request of a run (`run`: a short name, at most 8 characters). */
export function soapMessageId(run: string, index: number): string {
  return `${run}-${String(index).padStart(23 - run.length, '0')}`
}

/** SOAP with attachments (multipart/related, X-Road's SwA form): the envelope as the root part, then one binary attachment. */
export const SOAP_BOUNDARY = 'gatehouse-bench-boundary'
export const SOAP_MULTIPART_TYPE = `multipart/related; type="text/xml"; start="<envelope>"; boundary=${SOAP_BOUNDARY}`

export function soapRequestAt(target: SoapTarget, run: string, options: { envelopeBytes: number; attachmentBytes?: number }): (index: number) => { body: Buffer } {
  const { before, after } = soapEnvelopeParts(target, options.envelopeBytes)
  if (options.attachmentBytes === undefined) return (index) => ({ body: Buffer.concat([before, Buffer.from(soapMessageId(run, index)), after]) })
  const attachment = Buffer.alloc(options.attachmentBytes)
  for (let i = 0; i < attachment.length; i++) attachment[i] = (i * 31) & 0xff
  const open = Buffer.from(`--${SOAP_BOUNDARY}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <envelope>\r\n\r\n`)
  const middle = Buffer.from(`\r\n--${SOAP_BOUNDARY}\r\nContent-Type: application/octet-stream\r\nContent-ID: <attachment1>\r\n\r\n`)
  const close = Buffer.from(`\r\n--${SOAP_BOUNDARY}--\r\n`)
  return (index) => ({ body: Buffer.concat([open, before, Buffer.from(soapMessageId(run, index)), after, middle, attachment, close]) })
}

const ENVELOPE_START = /<SOAP-ENV:Envelope\b[^>]*>/
const HEADER = /<SOAP-ENV:Header>[\s\S]*?<\/SOAP-ENV:Header>/
const VALUE = /<value>([^<]*)<\/value>/

/**
 * The bench SOAP service's answer (soap-service.ts) to a request as soapRequestAt makes them (the envelope first, in
 * `head`: the request's first bytes): a text/xml response with the request's own header, as X-Road requires of a
 * service, and a body echoing the request's `<value>`; undefined when `head` holds no SOAP envelope.
 */
export function soapServiceAnswer(head: Buffer): Buffer | undefined {
  const text = head.toString('latin1')
  const start = ENVELOPE_START.exec(text)?.[0]
  const header = HEADER.exec(text)?.[0]
  if (start === undefined || header === undefined) return undefined
  const value = VALUE.exec(text)?.[1] ?? ''
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${start}${header}<SOAP-ENV:Body><b:${SOAP_OPERATION}Response xmlns:b="urn:gatehouse-bench">` +
    `<echo>${value}</echo></b:${SOAP_OPERATION}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>\n`, 'latin1')
}

/**
 * A token that makes at most `perSecond` signatures a second, one at a time (a slow hardware module): wraps a real
 * driver, so keys, sessions and signatures stay the real ones and only `sign` waits for its slot. Handed to the
 * signer by the bench's own server process (slow-token-server.ts) through the composition root's `signer.wrapDriver`.
 */
export function throttledDriver(driver: TokenDriver, perSecond: number, now: () => number = () => performance.now()): TokenDriver {
  const spacing = 1000 / perSecond
  let nextSlot = 0
  return new Proxy(driver, {
    get(target, property, receiver) {
      if (property === 'sign') {
        return async (...args: Parameters<TokenDriver['sign']>): Promise<Uint8Array> => {
          const slot = Math.max(now(), nextSlot)
          nextSlot = slot + spacing
          const wait = slot - now()
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
          return target.sign(...args)
        }
      }
      const value: unknown = Reflect.get(target, property, receiver)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}
