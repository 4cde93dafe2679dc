import { describe, expect, it } from 'vitest'
import { Writable } from 'node:stream'
import { createLogger, logFailure, SecurityServerError, clientError } from '../../src-main/platform'

function captured() {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
  return { logger: createLogger({ level: 'debug', destination }), lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

describe('structured logging', () => {
  it('never writes PINs, passwords, keys or message bodies, wherever they are nested', async () => {
    const { logger, lines } = captured()
    logger.info({ pin: '1234', tokenId: '0', request: { password: 'hunter2', body: 'SECRET-BODY', apiKey: 'k-123' }, headers: { authorization: 'X-Road-ApiKey token=abc' } }, 'login')
    logger.flush()
    await new Promise((r) => setImmediate(r))
    const text = JSON.stringify(lines())
    for (const secret of ['1234', 'hunter2', 'SECRET-BODY', 'k-123', 'token=abc']) expect(text).not.toContain(secret)
    expect(lines()[0]).toMatchObject({ level: 'info', msg: 'login', tokenId: '0', pin: '[redacted]' })
  })

  it('logs client faults at info and our own faults at error, with the fault code', async () => {
    const { logger, lines } = captured()
    logFailure(logger, clientError('access_denied', 'denied').withPrefix('server.serverproxy'), { queryId: 'q1' }, 'request refused')
    logFailure(logger, new SecurityServerError('database_error', 'disk full'), { queryId: 'q2' }, 'request failed')
    logFailure(logger, new TypeError('boom'), {}, 'bug')
    logger.flush()
    await new Promise((r) => setImmediate(r))
    expect(lines().map((l) => [l.level, l.code])).toEqual([
      ['info', 'server.serverproxy.access_denied'],
      ['error', 'database_error'],
      ['error', 'internal_error'],
    ])
  })
})
