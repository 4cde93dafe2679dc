import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  appendAuditEntry, auditExportLine, auditLogMigrations, iterateAuditEntries, parseAuditExportLine, pruneAuditLog, redactSecrets, verifyAuditLog, verifyChain,
} from '../../src-main/audit-log'
import { closeDatabase, migrate, openDatabase, type WritableDb } from '../../src-main/platform'
import { useTempDirs } from '../support/temp-dir'

/** The audit log's hash chain: every kind of tampering is named at the entry where the chain breaks; pruning keeps it whole. */
const tempDir = useTempDirs()

function auditDb(): WritableDb {
  const db = openDatabase(join(tempDir(), 'serverconf.sqlite'))
  migrate(db, [auditLogMigrations])
  return db
}

function fill(db: WritableDb, count: number, day = 1): void {
  for (let i = 1; i <= count; i++) {
    appendAuditEntry(db, {
      at: `2026-01-${String(day).padStart(2, '0')}T00:00:${String(i).padStart(2, '0')}.000Z`, actor: 'alice', event: 'settings.set', outcome: 'success',
      object: `parameter-${i}`, data: { input: { name: `parameter-${i}`, value: String(i) }, before: { value: '1' }, after: { value: String(i) } }, errorCode: null,
    })
  }
}

describe('the audit-log hash chain', () => {
  it('links every entry to the one before it and verifies from the genesis to the head', () => {
    const db = auditDb()
    fill(db, 5)
    const verdict = verifyAuditLog(db)
    expect(verdict).toMatchObject({ ok: true, entries: 5, problem: null, anchor: { lastPrunedId: 0 } })
    const rows = db.prepare('SELECT id, prev_hash, hash FROM audit_log ORDER BY id').all() as Array<{ id: number; prev_hash: string; hash: string }>
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5])
    rows.slice(1).forEach((r, i) => expect(r.prev_hash).toBe(rows[i]?.hash))
    expect(verdict.head).toEqual({ id: 5, hash: rows[4]?.hash })
    closeDatabase(db)
  })

  it('detects an altered entry', () => {
    const db = auditDb()
    fill(db, 5)
    db.prepare("UPDATE audit_log SET data = replace(data, '\"value\":\"3\"', '\"value\":\"999\"') WHERE id = 3").run()
    expect(verifyAuditLog(db)).toMatchObject({ ok: false, entries: 2, problem: { kind: 'altered', id: 3 } })
    closeDatabase(db)
  })

  it('detects an altered actor, even with the hash recomputed from the stored previous hash', () => {
    const db = auditDb()
    fill(db, 4)
    db.prepare("UPDATE audit_log SET actor = 'mallory' WHERE id = 2").run()
    expect(verifyAuditLog(db).problem).toEqual({ kind: 'altered', id: 2 })
    closeDatabase(db)
  })

  it('detects a deleted entry', () => {
    const db = auditDb()
    fill(db, 5)
    db.prepare('DELETE FROM audit_log WHERE id = 3').run()
    expect(verifyAuditLog(db)).toMatchObject({ ok: false, entries: 2, problem: { kind: 'missing', id: 4 } })
    closeDatabase(db)
  })

  it('detects reordered entries', () => {
    const db = auditDb()
    fill(db, 5)
    db.transaction(() => {
      db.prepare('UPDATE audit_log SET id = -2 WHERE id = 2').run()
      db.prepare('UPDATE audit_log SET id = 2 WHERE id = 4').run()
      db.prepare('UPDATE audit_log SET id = 4 WHERE id = -2').run()
    })()
    expect(verifyAuditLog(db).problem).toEqual({ kind: 'altered', id: 2 })
    closeDatabase(db)
  })

  it('detects entries cut off the end, and entries written around the log', () => {
    const db = auditDb()
    fill(db, 5)
    db.prepare('DELETE FROM audit_log WHERE id >= 4').run()
    expect(verifyAuditLog(db).problem).toEqual({ kind: 'truncated', id: 5 })
    const other = auditDb()
    fill(other, 2)
    other.prepare("INSERT INTO audit_log (id, at, actor, event, outcome, data, prev_hash, hash) VALUES (3, 'x', 'mallory', 'e', 'success', '{}', 'p', 'h')").run()
    expect(verifyAuditLog(other).problem?.id).toBe(3)
    closeDatabase(db)
    closeDatabase(other)
  })

  it('prunes old entries and anchors the chain at the last pruned hash, so the rest still verifies', () => {
    const db = auditDb()
    fill(db, 3, 1)
    fill(db, 2, 20)
    const lastOld = db.prepare('SELECT hash FROM audit_log WHERE id = 3').get() as { hash: string }
    const result = pruneAuditLog(db, '2026-01-10T00:00:00.000Z', '2026-02-01T00:00:00.000Z')
    expect(result).toMatchObject({ pruned: 3, anchor: { lastPrunedId: 3, hash: lastOld.hash, prunedAt: '2026-02-01T00:00:00.000Z', entriesPruned: 3 } })
    expect(verifyAuditLog(db)).toMatchObject({ ok: true, entries: 2, anchor: { lastPrunedId: 3 } })
    fill(db, 1, 21)
    expect(verifyAuditLog(db)).toMatchObject({ ok: true, entries: 3, head: { id: 6 } })
    // Everything pruned: the chain ends at its anchor and the next entry links to it.
    expect(pruneAuditLog(db, '2027-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z')?.pruned).toBe(3)
    expect(verifyAuditLog(db)).toMatchObject({ ok: true, entries: 0, head: null })
    fill(db, 1, 22)
    expect(verifyAuditLog(db)).toMatchObject({ ok: true, entries: 1, head: { id: 7 } })
    closeDatabase(db)
  })

  it('does not prune a part of the chain that no longer verifies', () => {
    const db = auditDb()
    fill(db, 3, 1)
    db.prepare("UPDATE audit_log SET actor = 'mallory' WHERE id = 2").run()
    expect(pruneAuditLog(db, '2026-01-10T00:00:00.000Z', '2026-02-01T00:00:00.000Z')).toBeNull()
    expect((db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n).toBe(3)
    closeDatabase(db)
  })

  it('exports JSON lines that verify on their own, and fail when a line is changed', () => {
    const db = auditDb()
    fill(db, 4)
    const lines = [...iterateAuditEntries(db)].map(auditExportLine)
    const rows = lines.map(parseAuditExportLine)
    const anchor = { lastPrunedId: 0, hash: rows[0]!.prevHash, prunedAt: null, entriesPruned: 0 }
    expect(verifyChain(rows, anchor)).toMatchObject({ ok: true, entries: 4 })
    const changed = lines.map((l, i) => (i === 2 ? l.replace('"alice"', '"bob"') : l)).map(parseAuditExportLine)
    expect(verifyChain(changed, anchor).problem).toEqual({ kind: 'altered', id: 3 })
    closeDatabase(db)
  })
})

describe('redaction of audit data', () => {
  it('replaces PINs, passwords, passphrases and API key secrets, and hashes large blobs', () => {
    const redacted = redactSecrets({
      tokenId: '0', pin: '1234', oldPin: 'a', newPin: 'b', softwareTokenPin: 'c', password: 'p', currentPassword: 'q', newPassword: 'r',
      passphrase: 's', key: 'secret-key', label: 'ok', keyId: 'k1', certificate: 'x'.repeat(2000), nested: [{ apiKey: 'z' }],
    }) as Record<string, unknown>
    expect(redacted).toMatchObject({ tokenId: '0', label: 'ok', keyId: 'k1', pin: '[redacted]', oldPin: '[redacted]', newPin: '[redacted]', softwareTokenPin: '[redacted]' })
    expect(redacted).toMatchObject({ password: '[redacted]', currentPassword: '[redacted]', newPassword: '[redacted]', passphrase: '[redacted]', key: '[redacted]' })
    expect(redacted.certificate).toMatchObject({ length: 2000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) })
    expect(redacted.nested).toEqual([{ apiKey: '[redacted]' }])
  })
})
