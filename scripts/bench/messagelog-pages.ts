import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { closeDatabase, inTransaction, migrate, openDatabase } from '../../src-main/platform'
import { messageLogMigrations } from '../../src-main/message-log'
import { insertMessageRecord, insertTimestampRecord, linkTimestamp, markArchived } from '../../src-main/message-log/message-record-repository'

/**
 * `npx tsx --tsconfig tsconfig.json scripts/bench/messagelog-pages.ts [--records N] [--batch B] [--body BYTES] [--stamp S]`:
 * the message log's write volume per record, counted in WAL frames (one page each) with checkpoints off: N records
 * logged B to a transaction (a group commit) with the sizes of a lab pair's exchange (a 236-byte REST message, a
 * 5.4 KB batch signature with its hash chain and result, one attachment of BYTES), then time-stamped S to a
 * transaction (each with a 936-character time-stamp hash chain) and archived S to a transaction, as the time-stamper
 * and the archiver do; and the database's pages per record at the end. Counts, not times: the figures do not depend
 * on the machine's load.
 */
function main(): void {
  const { values } = parseArgs({ options: {
    records: { type: 'string', default: '2000' }, batch: { type: 'string', default: '4' }, body: { type: 'string', default: '1024' }, stamp: { type: 'string', default: '100' },
  } })
  const records = Number(values.records)
  const batch = Number(values.batch)
  const body = Number(values.body)
  const stampBatch = Number(values.stamp)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mlog-pages-'))
  const path = join(dir, 'messagelog.sqlite')
  const db = openDatabase(path, { synchronous: 'FULL' })
  try {
    migrate(db, [messageLogMigrations])
    db.pragma('wal_checkpoint(TRUNCATE)')
    db.pragma('wal_autocheckpoint = 0')
    const pageSize = Number(db.pragma('page_size', { simple: true }))
    const frames = (): number => {
      const size = statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0
      return size === 0 ? 0 : (size - 32) / (pageSize + 24)
    }
    const base64 = (bytes: number, length: number): string => randomBytes(bytes).toString('base64').slice(0, length)
    const ids: number[] = []
    const t0 = Date.now()
    let start = frames()
    for (let seq = 1; seq <= records;) {
      inTransaction(db, () => {
        for (let j = 0; j < batch && seq <= records; j++, seq++) {
          ids.push(insertMessageRecord(db, {
            queryId: randomBytes(20).toString('hex'), xRequestId: randomBytes(16).toString('hex'), client: 'SUBSYSTEM:EE/GOV/1234/consumer-sub',
            service: 'SERVICE:EE/COM/5678/provider-sub/pets/v1', response: j % 2 === 1, message: randomBytes(236), bodyLogged: true,
            signatureXml: `<signatures>${base64(4100, 5370)}</signatures>`, signatureHash: base64(64, 88), hashChainResult: base64(300, 405),
            hashChain: base64(520, 687), timeMs: t0 + seq, attachments: [{ content: randomBytes(body), size: body, sha512: base64(64, 88) }],
          }, { seq, prevHash: randomBytes(32), chainHash: randomBytes(32) }))
        }
      })
    }
    const logged = frames() - start
    start = frames()
    for (let i = 0; i < ids.length; i += stampBatch) {
      inTransaction(db, () => {
        const ts = insertTimestampRecord(db, { timeMs: Date.now(), token: randomBytes(3000), hashChainResult: base64(1200, 1600), tsaUrl: 'http://tsa.example' })
        for (const id of ids.slice(i, i + stampBatch)) linkTimestamp(db, id, ts, base64(702, 936))
      })
    }
    const stamped = frames() - start
    start = frames()
    for (let i = 0; i < ids.length; i += stampBatch) inTransaction(db, () => markArchived(db, ids.slice(i, i + stampBatch), Date.now(), 'mlog-archive.zip'))
    const archived = frames() - start
    db.pragma('wal_checkpoint(TRUNCATE)')
    const perRecord = (n: number): string => (n / records).toFixed(2)
    process.stdout.write(`${records} records, ${batch} a commit, ${body}-byte bodies, stamped and archived ${stampBatch} a transaction; WAL frames a record: ` +
      `logging ${perRecord(logged)}, time-stamping ${perRecord(stamped)}, archiving ${perRecord(archived)}, in all ${perRecord(logged + stamped + archived)}; ` +
      `database pages a record ${perRecord(statSync(path).size / pageSize)}\n`)
  } finally {
    closeDatabase(db)
    rmSync(dir, { recursive: true, force: true })
  }
}

main()
