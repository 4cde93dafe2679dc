import { describe, expect, it } from 'vitest'
import { migrate, openDatabase } from '../../src-main/platform'
import {
  LinkingInfoBuilder, messageLogMigrations, nextLinkDigest, parseLinkingInfo, resolveMessageLogSettings,
} from '../../src-main/message-log'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { tempDir } from './support/message-log-harness'

describe('message-log migrations', () => {
  it('migrations 1 to 3 create the STRICT tables, the page indexes and the evidence chain on a fresh database, idempotently', () => {
    const db = openDatabase(join(tempDir(), 'messagelog.sqlite'), { synchronous: 'FULL' })
    expect(migrate(db, [messageLogMigrations])).toBe(3)
    expect(migrate(db, [messageLogMigrations])).toBe(0)
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string; sql: string }>
    expect(tables.map((t) => t.name)).toEqual([
      'evidence_chain_state', 'evidence_incidents', 'last_archive_digest', 'message_attachments', 'message_records', 'schema_migrations',
      'timestamp_records', 'timestamping_state',
    ])
    for (const t of tables.filter((x) => x.name !== 'schema_migrations')) expect(t.sql).toMatch(/STRICT$/)
    const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'message_records' AND sql IS NOT NULL ORDER BY name").all() as Array<{ name: string; sql: string }>
    expect(indexes.map((i) => i.name)).toEqual([
      'message_records_client_time', 'message_records_query_id', 'message_records_seq', 'message_records_service_time', 'message_records_time',
      'message_records_unarchived', 'message_records_unstamped',
    ])
    expect(indexes.find((i) => i.name === 'message_records_seq')?.sql).toMatch(/^CREATE UNIQUE INDEX/)
    expect(db.prepare('SELECT base_seq, base_hash, ack_file_since_ms FROM evidence_chain_state').all()).toEqual([{ base_seq: 0, base_hash: Buffer.alloc(32), ack_file_since_ms: null }])
    expect(indexes.find((i) => i.name === 'message_records_client_time')?.sql).toContain('(client, time_ms)')
    expect(() => db.prepare("INSERT INTO message_records (query_id, client, service, response, message, body_logged, signature_xml, signature_hash, time_ms) VALUES ('q', 'c', 's', 2, x'00', 1, '', '', 0)").run()).toThrow()
    db.close()
  })
})

describe('settings', () => {
  it('fills X-Road defaults and rejects nonsense', () => {
    const s = resolveMessageLogSettings()
    expect(s).toMatchObject({
      maxLoggableBodySize: 10 * 1024 * 1024, acceptableTimestampFailurePeriodSeconds: 14_400, keepRecordsForDays: 30,
      archiveGrouping: 'none', archiveHashAlgorithm: 'SHA-512', timeStampingIntervalSeconds: 60, messageBodyLogging: true,
    })
    expect(() => resolveMessageLogSettings({ maxLoggableBodySize: -1 })).toThrow(expect.objectContaining({ code: 'invalid_config' }))
  })
})

describe('linkinginfo', () => {
  it('chains digests as hex(H(prev + hex(H(file)))) from an empty seed', () => {
    const b = new LinkingInfoBuilder('SHA-512')
    b.addFile('a.asice', Buffer.from('A'))
    b.addFile('b.asice', Buffer.from('B'))
    const h = (s: string | Buffer): string => createHash('sha512').update(s).digest('hex')
    const d1 = h(h(Buffer.from('A')))
    const d2 = h(d1 + h(Buffer.from('B')))
    expect(b.build()).toBe(`- - SHA-512\n${d1} a.asice\n${d2} b.asice\n`)
    expect(nextLinkDigest('SHA-512', d1, Buffer.from('B'))).toBe(d2)
    const next = new LinkingInfoBuilder('SHA-512', { digest: d2, fileName: 'mlog-x.zip' })
    expect(next.build().split('\n')[0]).toBe(`${d2} mlog-x.zip SHA-512`)
    expect(parseLinkingInfo(b.build())).toEqual({
      previousDigest: null, previousFileName: null, algorithm: 'SHA-512',
      entries: [{ digest: d1, fileName: 'a.asice' }, { digest: d2, fileName: 'b.asice' }],
    })
    expect(() => parseLinkingInfo('- - MD5\n')).toThrow(expect.objectContaining({ code: 'archive_invalid' }))
  })
})
