import { createReadStream, existsSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import {
  GENESIS_HASH, auditExportLine, auditLogMigrations, iterateAuditEntries, parseAuditExportLine, verifyAuditLog, verifyChain, type ChainVerdict, type ChainedRow,
} from '../../audit-log'
import { clientError, closeDatabase, migrate, openDatabase, type WritableDb } from '../../platform'
import { dataDirLayout } from '../../server'
import { CliExit, EXIT_FAILED, EXIT_USAGE, printResult } from '../cli-support'
import { labAuditDatabase } from './lab-command'

/**
 * `gatehouse audit verify|export`: checks the audit log's hash chain (exit 1 on a break) and writes it as JSON lines,
 * for a data directory (`--data-dir`), a lab's own log (`--lab`) or an exported file (`verify --file`).
 */
interface AuditOptions {
  dataDir?: string
  lab?: string
  json?: boolean
}

function databasePath(opts: AuditOptions): string {
  if ((opts.dataDir === undefined) === (opts.lab === undefined)) throw new CliExit(EXIT_USAGE, 'gatehouse: give --data-dir DIR or --lab DIR')
  const path = opts.dataDir !== undefined ? dataDirLayout(opts.dataDir).serverConfDb : labAuditDatabase(opts.lab as string)
  if (!existsSync(path)) throw clientError('not_initialized', `No audit log at ${path}`)
  return path
}

function withAuditDb<T>(opts: AuditOptions, work: (db: WritableDb) => T): T {
  const db = openDatabase(databasePath(opts))
  try {
    migrate(db, [auditLogMigrations])
    return work(db)
  } finally {
    closeDatabase(db)
  }
}

const PROBLEM_TEXT: Record<string, string> = {
  altered: 'was changed after it was written',
  missing: 'follows a gap: entries before it were deleted',
  unlinked: 'does not link to the entry before it: entries were reordered, replaced or inserted',
  truncated: 'is the recorded last entry, but it and others before it are gone: entries were cut off the end',
}

export function verdictText(verdict: ChainVerdict): string {
  const pruned = verdict.anchor.lastPrunedId > 0
    ? ` (entries up to #${verdict.anchor.lastPrunedId} were pruned${verdict.anchor.prunedAt ? ` on ${verdict.anchor.prunedAt}` : ''}; the chain starts at the last one's hash)`
    : ''
  if (verdict.problem === null) {
    const head = verdict.head === null ? 'no entries' : `head #${verdict.head.id} ${verdict.head.hash}`
    return `The audit log verifies: ${verdict.entries} entries, ${head}${pruned}`
  }
  return `The audit log does NOT verify: entry #${verdict.problem.id} ${PROBLEM_TEXT[verdict.problem.kind] ?? verdict.problem.kind}. ${verdict.entries} entries before it verify${pruned}`
}

/** Reads an export (one JSON entry per line, oldest first) as chain rows. */
async function readExport(file: string): Promise<ChainedRow[]> {
  const rows: ChainedRow[] = []
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })
  let n = 0
  for await (const line of lines) {
    n++
    if (line.trim() === '') continue
    try {
      rows.push(parseAuditExportLine(line))
    } catch {
      throw clientError('validation_failed', `${file} line ${n} is not an exported audit entry`)
    }
  }
  return rows
}

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log: verify its hash chain, export it')
  audit
    .command('verify')
    .description('walk the hash chain from its anchor to its head; exit 1 at the first break')
    .option('--data-dir <dir>', 'data directory (serverconf.sqlite)')
    .option('--lab <dir>', "a lab directory's own audit log")
    .option('--file <jsonl>', 'an export made by `gatehouse audit export` or the GUI (checked from its first entry on)')
    .option('--json', 'print one JSON document')
    .action(async (opts: AuditOptions & { file?: string }) => {
      let verdict: ChainVerdict
      if (opts.file !== undefined) {
        const rows = await readExport(opts.file)
        const first = rows[0]
        // An export may start anywhere: its first entry's link is taken as the anchor.
        const anchor = { lastPrunedId: first === undefined ? 0 : first.id - 1, hash: first?.prevHash ?? GENESIS_HASH, prunedAt: null, entriesPruned: 0 }
        verdict = verifyChain(rows, anchor)
      } else {
        verdict = withAuditDb(opts, (db) => verifyAuditLog(db))
      }
      printResult(opts, verdict, () => verdictText(verdict))
      if (!verdict.ok) throw new CliExit(EXIT_FAILED)
    })
  audit
    .command('export')
    .description('write the audit log as JSON lines (oldest first, with the hashes), to --out or stdout')
    .option('--data-dir <dir>', 'data directory (serverconf.sqlite)')
    .option('--lab <dir>', "a lab directory's own audit log")
    .option('--from <iso>', 'entries at or after this time')
    .option('--to <iso>', 'entries at or before this time')
    .option('--out <file>', 'file to write (default: standard output)')
    .action((opts: AuditOptions & { from?: string; to?: string; out?: string }) => {
      const iso = (value: string | undefined, flag: string): string | undefined => {
        if (value === undefined) return undefined
        const time = new Date(value)
        if (Number.isNaN(time.getTime())) throw new CliExit(EXIT_USAGE, `gatehouse: ${flag} is not a date and time`)
        return time.toISOString()
      }
      const range = { from: iso(opts.from, '--from'), to: iso(opts.to, '--to') }
      const lines = withAuditDb(opts, (db) => [...iterateAuditEntries(db, range)].map(auditExportLine))
      const text = lines.length === 0 ? '' : `${lines.join('\n')}\n`
      if (opts.out === undefined) process.stdout.write(text)
      else {
        writeFileSync(opts.out, text, { mode: 0o600 })
        process.stderr.write(`${lines.length} entries written to ${opts.out}\n`)
      }
    })
}
