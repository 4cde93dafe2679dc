import { closeSync, existsSync, openSync, readFileSync, readSync, writeSync } from 'node:fs'
import { endianness } from 'node:os'
import { join } from 'node:path'
import type { EvidenceContinuity } from '@shared/admin-api/admin-api'
import { searchRecordMetadata } from '../../../src-main/message-log'
import { openDatabase } from '../../../src-main/platform'
import type { AdminClient } from '../admin-client'
import type { Outcome } from './fault-load'

/**
 * What the harness checks in a server's message log from outside: which query ids have their request and response
 * records (read from the SQLite file, read-only, while the server runs or after it stopped), and what the server
 * itself reports about its evidence chain (`messageLog.evidence` / `checkEvidence` through the admin API).
 */
export interface LoggedPair {
  request: boolean
  response: boolean
}

export const MESSAGE_LOG_FILE = 'messagelog.sqlite'

/**
 * Query id → which of its records the message log at `dataDir` holds. Opened read-write (a read-only connection
 * cannot take part in the WAL index of a log another process writes), only read, and closed without the checkpoint
 * `closeDatabase` makes: a checkpoint from here would copy the running server's WAL into its database file behind its
 * back (blocking its writers meanwhile), and a later WAL corruption would then hit frames already checkpointed.
 */
export function loggedQueries(dataDir: string): Map<string, LoggedPair> {
  const path = join(dataDir, MESSAGE_LOG_FILE)
  const logged = new Map<string, LoggedPair>()
  if (!existsSync(path)) return logged
  const db = openDatabase(path)
  try {
    for (const row of searchRecordMetadata(db, { limit: 10_000_000 })) {
      const entry = logged.get(row.queryId) ?? { request: false, response: false }
      if (row.response) entry.response = true
      else entry.request = true
      logged.set(row.queryId, entry)
    }
  } finally {
    db.close()
  }
  return logged
}

/** The acknowledged outcomes whose request or response record is not in `logged`. */
export function missingFrom(acknowledged: readonly Outcome[], logged: ReadonlyMap<string, LoggedPair>): Outcome[] {
  return acknowledged.filter((o) => {
    const entry = logged.get(o.queryId ?? '')
    return entry === undefined || !entry.request || !entry.response
  })
}

export function evidence(admin: AdminClient): Promise<EvidenceContinuity> {
  return admin.call<EvidenceContinuity>('messageLog', 'evidence', [])
}

export function fullEvidenceCheck(admin: AdminClient): Promise<EvidenceContinuity> {
  return admin.call<EvidenceContinuity>('messageLog', 'checkEvidence', [{ scope: 'full' }])
}

export function acknowledgeEvidence(admin: AdminClient, reason: string): Promise<EvidenceContinuity> {
  return admin.call<EvidenceContinuity>('messageLog', 'acknowledgeGap', [{ reason }])
}

export function describeProblems(e: EvidenceContinuity): string {
  return e.problems.filter((p) => !p.acknowledged).map((p) => `${p.kind} ${p.firstSeq ?? ''}–${p.lastSeq ?? ''}`).join(', ') || 'none'
}

/** Flips one bit of the byte at `offset` (the file as on disk). */
export function flipByte(path: string, offset: number): void {
  const fd = openSync(path, 'r+')
  try {
    const one = Buffer.alloc(1)
    readSync(fd, one, 0, 1, offset)
    one[0] = (one[0] as number) ^ 0x20
    writeSync(fd, one, 0, 1, offset)
  } finally {
    closeSync(fd)
  }
}

/**
 * How many frames of the WAL a checkpoint has copied into the database file (`nBackfill` of the WAL index in the
 * `-shm` file, https://www.sqlite.org/walformat.html §2.2: after the two 48-byte headers, in the machine's byte
 * order), or 0 without an index.
 */
export function walBackfilled(walPath: string): number {
  const shm = walPath.replace(/-wal$/, '-shm')
  if (!existsSync(shm)) return 0
  const index = readFileSync(shm)
  if (index.length < 100) return 0
  return endianness() === 'LE' ? index.readUInt32LE(96) : index.readUInt32BE(96)
}

/** Frames of the WAL's current generation (their salts match the header), as offsets of each frame header. */
export function walFrames(path: string): { pageSize: number; frames: number[] } {
  if (!existsSync(path)) return { pageSize: 0, frames: [] }
  const wal = readFileSync(path)
  if (wal.length < 32) return { pageSize: 0, frames: [] }
  const pageSize = wal.readUInt32BE(8)
  const salt1 = wal.readUInt32BE(16)
  const salt2 = wal.readUInt32BE(20)
  const frames: number[] = []
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break
    frames.push(at)
  }
  return { pageSize, frames }
}
