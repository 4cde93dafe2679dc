import { decodeIdentifier, encodeIdentifier, securityServerId, type MemberId, type SecurityServerId } from '@shared/domain/identifiers'
import type { SqlReader, SqlWriter } from '../platform'

interface IdentityRow {
  instance: string
  owner: string
  server_code: string
  initialized_at: string
}

export interface ServerIdentity {
  serverId: SecurityServerId
  owner: MemberId
  initializedAt: string
}

export function findServerIdentity(db: SqlReader): ServerIdentity | undefined {
  const row = db.prepare('SELECT instance, owner, server_code, initialized_at FROM server_identity WHERE id = 1').get() as
    | IdentityRow
    | undefined
  if (row === undefined) return undefined
  const owner = decodeIdentifier(row.owner) as MemberId
  return { owner, serverId: securityServerId(owner, row.server_code), initializedAt: row.initialized_at }
}

export function saveServerIdentity(db: SqlWriter, owner: MemberId, serverCode: string, at: Date): void {
  db.prepare(
    `INSERT INTO server_identity (id, instance, owner, server_code, initialized_at) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, owner = excluded.owner, server_code = excluded.server_code`,
  ).run(owner.xRoadInstance, encodeIdentifier(owner), serverCode, at.toISOString())
}
