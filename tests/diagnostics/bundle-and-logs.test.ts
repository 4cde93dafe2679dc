import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { readZipEntries } from '../../src-main/message-log'
import { createLogger, LogRing } from '../../src-main/platform'
import { scrubLogLine, writeBundleZip } from '../../src-main/diagnostics'

/** The in-memory ring of recent log lines and the bundle's ZIP and log scrubbing. */
const sink = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() })

describe('recent log lines', () => {
  it('keeps the newest lines within its line and size bounds, as written and redacted', () => {
    const ring = new LogRing(3, 10_000)
    const logger = createLogger({ level: 'info', destination: sink(), ring })
    for (let i = 0; i < 5; i++) logger.info({ i, pin: '1234' }, `line ${i}`)
    logger.debug('below the level')
    const lines = ring.lines().map((l) => JSON.parse(l) as { i: number; pin: string; msg: string })
    expect(lines.map((l) => l.i)).toEqual([2, 3, 4])
    expect(lines.every((l) => l.pin === '[redacted]')).toBe(true)

    const small = new LogRing(100, 50)
    small.write(`${'a'.repeat(30)}\n`)
    small.write(`${'b'.repeat(30)}\n`)
    expect(small.lines()).toEqual(['b'.repeat(30)])
  })
})

describe('diagnostics bundle', () => {
  it('blanks secret fields of lines pino did not write, keeps what an error says', () => {
    const line = JSON.stringify({ level: 'info', password: 'hunter2', message: 'a body', err: { message: 'connection refused', pin: '0000' }, user: 'ana' })
    const scrubbed = JSON.parse(scrubLogLine(line)) as Record<string, unknown>
    expect(scrubbed).toEqual({ level: 'info', password: '[redacted]', message: '[redacted]', err: { message: 'connection refused', pin: '[redacted]' }, user: 'ana' })
    expect(JSON.parse(scrubLogLine('not json at all'))).toEqual({ note: 'a line that is not JSON was left out' })
  })

  it('writes its entries under one folder, in order', async () => {
    const zip = await writeBundleZip('bundle-x', [{ name: 'a.json', content: '{}\n' }, { name: 'logs/recent.jsonl', content: 'x\n' }], new Date('2026-01-02T03:04:05Z'))
    const entries = await readZipEntries(zip)
    expect(entries.map((e) => [e.name, e.data.toString('utf8')])).toEqual([['bundle-x/a.json', '{}\n'], ['bundle-x/logs/recent.jsonl', 'x\n']])
  })
})
