import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import { hostname } from 'node:os'

/**
 * Outbound syslog: RFC 5424 messages over UDP (RFC 5426, one message per datagram) or TCP (RFC 6587 §3.4.1 octet
 * counting: `LENGTH SP MESSAGE`), one connection per delivery, bounded in time.
 */
export interface SyslogTarget {
  host: string
  port: number
  protocol: 'udp' | 'tcp'
  /** RFC 5424 §6.2.1 facility, 0..23 (16 = local0). */
  facility: number
}

/** RFC 5424 §6.2.1 severities. */
export type SyslogSeverity = 2 | 4 | 5 | 6

export interface SyslogMessage {
  severity: SyslogSeverity
  /** MSGID: 1..32 printable US-ASCII characters. */
  msgId: string
  /** SD-PARAMs of the `gatehouse@32473` element (32473: the example enterprise number of RFC 5612). */
  data: Record<string, string>
  text: string
  at: Date
}

/** RFC 5426 §3.2: a receiver must accept 480 octets, should accept 2048; longer messages are cut there. */
const MAX_UDP_BYTES = 2048

function printable(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max)
  return cleaned === '' ? '-' : cleaned
}

/** RFC 5424 §6.3.3: `"`, `\` and `]` are escaped in PARAM-VALUE. */
function paramValue(value: string): string {
  return value.replace(/[\\"\]]/g, (c) => `\\${c}`)
}

export function formatSyslogMessage(m: SyslogMessage, facility: number, host = hostname()): string {
  const pri = facility * 8 + m.severity
  const sd = Object.entries(m.data).map(([k, v]) => ` ${printable(k, 32)}="${paramValue(v)}"`).join('')
  const text = m.text.replace(/[\r\n]+/g, ' ')
  return `<${pri}>1 ${m.at.toISOString()} ${printable(host, 255)} gatehouse ${process.pid} ${printable(m.msgId, 32)} [gatehouse@32473${sd}] ${text}`
}

export function sendSyslog(target: SyslogTarget, message: SyslogMessage, timeoutMs = 5000): Promise<void> {
  const line = formatSyslogMessage(message, target.facility)
  return target.protocol === 'udp' ? sendUdp(target, line) : sendTcp(target, line, timeoutMs)
}

function sendUdp(target: SyslogTarget, line: string): Promise<void> {
  let bytes = Buffer.from(line, 'utf8')
  if (bytes.length > MAX_UDP_BYTES) bytes = bytes.subarray(0, MAX_UDP_BYTES)
  return new Promise((resolve, reject) => {
    const socket = createSocket(target.host.includes(':') ? 'udp6' : 'udp4')
    socket.send(bytes, target.port, target.host, (error) => {
      socket.close()
      if (error) reject(error)
      else resolve()
    })
  })
}

function sendTcp(target: SyslogTarget, line: string, timeoutMs: number): Promise<void> {
  const bytes = Buffer.from(line, 'utf8')
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port })
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)))
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.end(Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]), () => resolve())
    })
  })
}
