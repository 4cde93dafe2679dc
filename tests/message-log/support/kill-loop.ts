import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { closeDatabase, integrityCheck, openDatabase } from '../../../src-main/platform'
import { checkEvidence, findMessageRecord, readAckFile } from '../../../src-main/message-log'

/**
 * The "loses no data" loop (reliability-and-security.md §6, test catalogue F): start a child writing records under
 * bounded load, SIGKILL it at a random moment, reopen the database and check that every record the child
 * acknowledged (printed only after `record()` resolved) is there, that `PRAGMA integrity_check` is ok, and that the
 * evidence check (every record against the chain, the chain against the acknowledgement file) finds nothing: a kill
 * alone loses nothing acknowledged, so it must raise no alarm.
 */
const ROOT = resolve(__dirname, '../../..')
const CHILD = join(ROOT, 'tests/message-log/support/record-writer-child.ts')

export interface KillRound {
  acknowledged: number
  missing: string[]
  integrity: string[]
  /** What the evidence check reported after the kill (`kind: detail`). */
  evidenceProblems: string[]
  killedAfterMs: number
}

async function oneRound(dbPath: string, round: number, minMs: number, maxMs: number): Promise<KillRound> {
  const { acks, killedAfterMs } = await killWriter(dbPath, `r${round}`, minMs, maxMs)
  const db = openDatabase(dbPath, { synchronous: 'FULL' })
  try {
    const missing = acks.filter((a) => findMessageRecord(db, a.id)?.queryId !== a.queryId).map((a) => `${a.queryId}#${a.id}`)
    const integrity = integrityCheck(db)
    const { report } = await checkEvidence({ db, nowMs: Date.now(), ack: readAckFile(join(dirname(dbPath), 'messagelog.ack')), scope: 'full' })
    return { acknowledged: acks.length, missing, integrity, evidenceProblems: report.problems.map((p) => `${p.kind}: ${p.detail}`), killedAfterMs }
  } finally {
    closeDatabase(db)
  }
}

/** Starts a writer child on `dbPath`, waits until it acknowledged records, kills it (SIGKILL) and returns what it acknowledged. */
export async function killWriter(dbPath: string, prefix: string, minMs: number, maxMs: number): Promise<{ acks: Array<{ queryId: string; id: number }>; killedAfterMs: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbPath, prefix, '8'], {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const acks: Array<{ queryId: string; id: number }> = []
  let buffered = ''
  let stderr = ''
  let writing: () => void = () => undefined
  const isWriting = new Promise<void>((r) => (writing = r))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdout.on('data', (c: Buffer) => {
    buffered += c.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      const m = /^ack (\S+) (\d+)$/.exec(line)
      if (m) {
        acks.push({ queryId: m[1] as string, id: Number(m[2]) })
        writing()
      }
    }
  })
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  const early = exited.then((code) => {
    throw new Error(`writer child exited early (${code}): ${stderr}`)
  })
  await Promise.race([isWriting, early])
  const killedAfterMs = minMs + Math.floor(Math.random() * (maxMs - minMs))
  await Promise.race([new Promise((r) => setTimeout(r, killedAfterMs)), early])
  child.kill('SIGKILL')
  early.catch(() => undefined)
  await exited
  return { acks, killedAfterMs }
}

export async function runKillLoop(options: { dir: string; rounds: number; minMs?: number; maxMs?: number }): Promise<KillRound[]> {
  const dbPath = join(options.dir, 'messagelog.sqlite')
  const rounds: KillRound[] = []
  for (let i = 0; i < options.rounds; i++) rounds.push(await oneRound(dbPath, i, options.minMs ?? 30, options.maxMs ?? 250))
  return rounds
}
