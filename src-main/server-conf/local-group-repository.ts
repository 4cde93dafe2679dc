import type { SqlReader, SqlWriter } from '../platform'

/** Rows of `local_groups` and `local_group_members` (members in `encodeIdentifier` form). */
export interface LocalGroupRow {
  id: number
  group_code: string
  description: string
}

export function insertLocalGroup(db: SqlWriter, clientRowId: number, code: string, description: string): number {
  const row = db
    .prepare('INSERT INTO local_groups (client_id, group_code, description) VALUES (?, ?, ?) RETURNING id')
    .get(clientRowId, code, description) as { id: number }
  return row.id
}

export function findLocalGroupRow(db: SqlReader, clientRowId: number, code: string): LocalGroupRow | undefined {
  return db
    .prepare('SELECT id, group_code, description FROM local_groups WHERE client_id = ? AND group_code = ?')
    .get(clientRowId, code) as LocalGroupRow | undefined
}

export function listLocalGroupRows(db: SqlReader, clientRowId: number): LocalGroupRow[] {
  return db
    .prepare('SELECT id, group_code, description FROM local_groups WHERE client_id = ? ORDER BY group_code')
    .all(clientRowId) as LocalGroupRow[]
}

/** Returns false when the member was already in the group. */
export function insertLocalGroupMember(db: SqlWriter, groupId: number, member: string, at: string): boolean {
  return (
    db.prepare('INSERT INTO local_group_members (group_id, member, added_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(groupId, member, at)
      .changes === 1
  )
}

export function deleteLocalGroupMember(db: SqlWriter, groupId: number, member: string): boolean {
  return db.prepare('DELETE FROM local_group_members WHERE group_id = ? AND member = ?').run(groupId, member).changes === 1
}

export function listLocalGroupMembers(db: SqlReader, groupId: number): string[] {
  return (db.prepare('SELECT member FROM local_group_members WHERE group_id = ? ORDER BY member').all(groupId) as Array<{ member: string }>).map(
    (r) => r.member,
  )
}

export function updateLocalGroupDescription(db: SqlWriter, groupId: number, description: string): void {
  db.prepare('UPDATE local_groups SET description = ? WHERE id = ?').run(description, groupId)
}

/** Deletes the group and its members (ON DELETE CASCADE). */
export function deleteLocalGroupRow(db: SqlWriter, groupId: number): void {
  db.prepare('DELETE FROM local_groups WHERE id = ?').run(groupId)
}

/** Removes `member` from every local group of this server; returns how many memberships went. */
export function deleteMemberFromAllGroups(db: SqlWriter, member: string): number {
  return db.prepare('DELETE FROM local_group_members WHERE member = ?').run(member).changes
}
