import type { AdminRole } from '@shared/admin-api/admin-roles'
import type { ReadableDb, WritableDb } from '../platform'

/** SQL for admin users, sessions, API keys (migrations/0001-admin-accounts.ts) and failed sign-ins (0002-login-failures.ts). */
export interface UserRow {
  id: number
  username: string
  passwordHash: string
  roles: AdminRole[]
  createdAt: string
}

export interface SessionRow {
  tokenHash: string
  userId: number
  csrfToken: string
  createdAt: string
  lastSeenAt: string
}

export interface ApiKeyRow {
  id: number
  label: string
  roles: AdminRole[]
  createdAt: string
  createdBy: string
  revokedAt: string | null
}

interface RawUser {
  id: number
  username: string
  password_hash: string
  roles: string
  created_at: string
}

const toUser = (r: RawUser): UserRow => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  roles: JSON.parse(r.roles) as AdminRole[],
  createdAt: r.created_at,
})

const USER_COLUMNS = 'id, username, password_hash, roles, created_at'

export function countUsers(db: ReadableDb): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM admin_user').get() as { n: number }).n
}

export function listUsers(db: ReadableDb): UserRow[] {
  return (db.prepare(`SELECT ${USER_COLUMNS} FROM admin_user ORDER BY username`).all() as RawUser[]).map(toUser)
}

export function findUserByName(db: ReadableDb, username: string): UserRow | undefined {
  const row = db.prepare(`SELECT ${USER_COLUMNS} FROM admin_user WHERE username = ?`).get(username) as RawUser | undefined
  return row && toUser(row)
}

export function findUserById(db: ReadableDb, id: number): UserRow | undefined {
  const row = db.prepare(`SELECT ${USER_COLUMNS} FROM admin_user WHERE id = ?`).get(id) as RawUser | undefined
  return row && toUser(row)
}

export function insertUser(db: WritableDb, user: { username: string; passwordHash: string; roles: AdminRole[]; at: string }): number {
  const result = db
    .prepare('INSERT INTO admin_user (username, password_hash, roles, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?)')
    .run(user.username, user.passwordHash, JSON.stringify(user.roles), user.at, user.at)
  return Number(result.lastInsertRowid)
}

export function updateUserRoles(db: WritableDb, id: number, roles: AdminRole[]): void {
  db.prepare('UPDATE admin_user SET roles = ? WHERE id = ?').run(JSON.stringify(roles), id)
}

export function updateUserPassword(db: WritableDb, id: number, passwordHash: string, at: string): void {
  db.prepare('UPDATE admin_user SET password_hash = ?, password_changed_at = ? WHERE id = ?').run(passwordHash, at, id)
}

export function deleteUser(db: WritableDb, id: number): void {
  db.prepare('DELETE FROM admin_user WHERE id = ?').run(id)
}

export function insertSession(db: WritableDb, session: SessionRow): void {
  db.prepare('INSERT INTO admin_session (token_hash, user_id, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)').run(
    session.tokenHash,
    session.userId,
    session.csrfToken,
    session.createdAt,
    session.lastSeenAt,
  )
}

export function findSession(db: ReadableDb, tokenHash: string): SessionRow | undefined {
  const row = db
    .prepare('SELECT token_hash, user_id, csrf_token, created_at, last_seen_at FROM admin_session WHERE token_hash = ?')
    .get(tokenHash) as { token_hash: string; user_id: number; csrf_token: string; created_at: string; last_seen_at: string } | undefined
  return row && { tokenHash: row.token_hash, userId: row.user_id, csrfToken: row.csrf_token, createdAt: row.created_at, lastSeenAt: row.last_seen_at }
}

export function touchSession(db: WritableDb, tokenHash: string, at: string): void {
  db.prepare('UPDATE admin_session SET last_seen_at = ? WHERE token_hash = ?').run(at, tokenHash)
}

export function deleteSession(db: WritableDb, tokenHash: string): void {
  db.prepare('DELETE FROM admin_session WHERE token_hash = ?').run(tokenHash)
}

export function deleteSessionsOfUser(db: WritableDb, userId: number): void {
  db.prepare('DELETE FROM admin_session WHERE user_id = ?').run(userId)
}

/** Ends every session of the user except `keepTokenHash` (the one asking). */
export function deleteOtherSessionsOfUser(db: WritableDb, userId: number, keepTokenHash: string): void {
  db.prepare('DELETE FROM admin_session WHERE user_id = ? AND token_hash <> ?').run(userId, keepTokenHash)
}

export function deleteSessionsSeenBefore(db: WritableDb, at: string): void {
  db.prepare('DELETE FROM admin_session WHERE last_seen_at < ?').run(at)
}

interface RawKey {
  id: number
  label: string
  roles: string
  created_at: string
  created_by: string
  revoked_at: string | null
}

const toKey = (r: RawKey): ApiKeyRow => ({
  id: r.id,
  label: r.label,
  roles: JSON.parse(r.roles) as AdminRole[],
  createdAt: r.created_at,
  createdBy: r.created_by,
  revokedAt: r.revoked_at,
})

const KEY_COLUMNS = 'id, label, roles, created_at, created_by, revoked_at'

export function insertApiKey(db: WritableDb, key: { keyHash: string; label: string; roles: AdminRole[]; at: string; createdBy: string }): number {
  const result = db
    .prepare('INSERT INTO admin_api_key (key_hash, label, roles, created_at, created_by) VALUES (?, ?, ?, ?, ?)')
    .run(key.keyHash, key.label, JSON.stringify(key.roles), key.at, key.createdBy)
  return Number(result.lastInsertRowid)
}

export function listApiKeys(db: ReadableDb): ApiKeyRow[] {
  return (db.prepare(`SELECT ${KEY_COLUMNS} FROM admin_api_key ORDER BY id`).all() as RawKey[]).map(toKey)
}

export function findApiKeyById(db: ReadableDb, id: number): ApiKeyRow | undefined {
  const row = db.prepare(`SELECT ${KEY_COLUMNS} FROM admin_api_key WHERE id = ?`).get(id) as RawKey | undefined
  return row && toKey(row)
}

export function findActiveApiKeyByHash(db: ReadableDb, keyHash: string): ApiKeyRow | undefined {
  const row = db.prepare(`SELECT ${KEY_COLUMNS} FROM admin_api_key WHERE key_hash = ? AND revoked_at IS NULL`).get(keyHash) as RawKey | undefined
  return row && toKey(row)
}

export function updateApiKeyRoles(db: WritableDb, id: number, roles: AdminRole[]): void {
  db.prepare('UPDATE admin_api_key SET roles = ? WHERE id = ?').run(JSON.stringify(roles), id)
}

export function revokeApiKey(db: WritableDb, id: number, at: string): void {
  db.prepare('UPDATE admin_api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id)
}

/** Failure times (epoch ms, oldest first) of one limiter key since `sinceMs`. */
export function listLoginFailures(db: ReadableDb, key: string, sinceMs: number): number[] {
  return (db.prepare('SELECT failed_at AS at FROM admin_login_failure WHERE key = ? AND failed_at > ? ORDER BY failed_at').all(key, sinceMs) as Array<{ at: number }>)
    .map((r) => r.at)
}

export function insertLoginFailure(db: WritableDb, key: string, atMs: number): void {
  db.prepare('INSERT INTO admin_login_failure (key, failed_at) VALUES (?, ?)').run(key, atMs)
}

export function deleteLoginFailures(db: WritableDb, key: string): number {
  return db.prepare('DELETE FROM admin_login_failure WHERE key = ?').run(key).changes
}

/** Deletes the failures of every key starting with `prefix` (e.g. `addr:`). */
export function deleteLoginFailuresWithPrefix(db: WritableDb, prefix: string): number {
  return db.prepare("DELETE FROM admin_login_failure WHERE substr(key, 1, length(?)) = ?").run(prefix, prefix).changes
}

/** Forgets failures older than `beforeMs`, then keeps at most the newest `maxRows` (a flood from many addresses stays bounded). */
export function pruneLoginFailures(db: WritableDb, beforeMs: number, maxRows: number): void {
  db.prepare('DELETE FROM admin_login_failure WHERE failed_at <= ?').run(beforeMs)
  db.prepare('DELETE FROM admin_login_failure WHERE id <= (SELECT id FROM admin_login_failure ORDER BY id DESC LIMIT 1 OFFSET ?)').run(maxRows)
}
