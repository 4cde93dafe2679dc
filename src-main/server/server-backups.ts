import { basename, join } from 'node:path'
import { formatIdPath } from '@shared/domain/identifiers'
import { appendAuditEntry, auditChainState } from '../audit-log'
import { DEFAULT_BACKUP_SCHEDULE } from './system-parameters'
import { BackupStore, restoreIntoNewDirectory, writeBackup, type BackupFile, type BackupManifest, type DerivedKey } from '../backup'
import { labMigrations } from '../lab'
import { messageLogMigrations } from '../message-log'
import { opMonitoringMigrations } from '../op-monitoring'
import {
  SecurityServerError, clientError, closeDatabase, integrityCheck, openDatabase, schemaVersions, silentLogger, systemClock, toSecurityServerError,
  type Clock, type Logger, type MigrationSet, type ReadableDb, type WritableDb,
} from '../platform'
import { createServerConf, type ServerConf } from '../server-conf'
import { SERVER_CONF_MIGRATIONS, openDatabases, openServerConfDatabase, type Databases } from './security-server-core'
import { dataDirLayout, type DataDirLayout } from './server-config'
import { GATEHOUSE_VERSION } from './version'

/**
 * This server's backups: what goes in (every file of the data directory — databases through SQLite's backup API,
 * software-token key files, global configuration, TLS material, the bootstrap file, a hosted lab, ceremony
 * transcripts — except the backups themselves, the message-log archives, the pid file and restore folders), how a
 * restored database is checked, and the schedule (`backup.interval-hours`, `backup.keep-scheduled`).
 */
export const SCHEDULE_KEY_FILE = 'backup-schedule.key'

/**
 * Left out of a backup: `backups/` (itself), `archive/` (message-log archives: signed, linked evidence kept and
 * moved off the machine on their own, as X-Road's archive transfer does; the message log's database, with the
 * linking state, is in), the pid file, and top-level names starting with a dot (restore folders, temporary files).
 */
export function excludedFromBackup(path: string): boolean {
  const top = path.split('/')[0] ?? ''
  return top === 'backups' || top === 'archive' || top === 'gatehouse.pid' || top.startsWith('.') || path.endsWith('.tmp')
}

/** Schema migrations by database file: a restored database must not be newer than this Gatehouse. */
const MIGRATIONS_BY_FILE: Record<string, readonly MigrationSet[]> = {
  'serverconf.sqlite': SERVER_CONF_MIGRATIONS,
  'messagelog.sqlite': [messageLogMigrations],
  'opmonitor.sqlite': [opMonitoringMigrations],
  'lab/lab.sqlite': [labMigrations],
}

/**
 * A restored database: SQLite's integrity check passes and no component's schema is newer than this Gatehouse knows
 * (an older one is migrated at the first start). @throws backup_invalid
 */
export function checkRestoredDatabase(path: string, absolutePath: string): void {
  let db: WritableDb
  try {
    db = openDatabase(absolutePath)
  } catch (cause) {
    throw new SecurityServerError('backup_invalid', `${path} in the backup is not a usable database`, { cause, detail: 'database', clientFault: true })
  }
  try {
    const problems = integrityCheck(db)
    if (problems.length !== 1 || problems[0] !== 'ok') {
      throw new SecurityServerError('backup_invalid', `${path} in the backup fails SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`, { detail: 'database', clientFault: true })
    }
    for (const set of MIGRATIONS_BY_FILE[path] ?? []) {
      const known = set.migrations.at(-1)?.version ?? 0
      const stored = schemaVersions(db).find((v) => v.component === set.component)?.version ?? 0
      if (stored > known) {
        throw new SecurityServerError('backup_invalid', `${path} in the backup has ${set.component} schema ${stored}; this Gatehouse knows up to ${known}: restore with a newer Gatehouse`, {
          detail: 'newer-version', clientFault: true,
        })
      }
    }
  } finally {
    closeDatabase(db)
  }
}

export interface ServerBackups {
  store: BackupStore
  /** Writes a backup of this server encrypted under `key` (into the backups folder unless `out` names a file). */
  create(key: DerivedKey, kind: BackupFile['kind'], out?: string): Promise<{ file: BackupFile; manifest: BackupManifest }>
  /** Makes a scheduled backup when one is due (and a schedule key is set), then deletes the oldest beyond the limit. */
  runSchedule(): Promise<void>
  schedule(): { intervalHours: number; keepScheduled: number; passphraseSet: boolean; lastScheduledAt: string | null; nextAt: string | null; lastError: string | null }
}

export interface ServerBackupsDeps {
  layout: DataDirLayout
  databases: Databases
  serverConf: ServerConf
  clock: Clock
  logger: Logger
  /** `backup.interval-hours` and `backup.keep-scheduled` as in force now. */
  parameters(): { intervalHours: number; keepScheduled: number }
}

export function createServerBackups(deps: ServerBackupsDeps): ServerBackups {
  const { layout, clock, logger } = deps
  const store = new BackupStore(layout.backupsDir, join(layout.root, SCHEDULE_KEY_FILE))
  let lastError: string | null = null
  let running: Promise<void> | undefined

  const create: ServerBackups['create'] = async (key, kind, given) => {
    // A data-directory backup copies SQLite files; a cluster node's configuration is the shared PostgreSQL database,
    // backed up with PostgreSQL's own tools (README "Running a cluster": pg_dump).
    if (deps.databases.shared !== undefined) {
      throw clientError('unsupported', `This node is in a cluster: its server configuration is the shared PostgreSQL database ${deps.databases.shared.name}; back it up with pg_dump (README "Running a cluster")`, { detail: 'cluster' })
    }
    const createdAt = clock.now()
    const identity = deps.serverConf.identity()
    const chain = auditChainState(deps.databases.local)
    const out = given ?? store.newPath(createdAt, kind, identity?.serverId.serverCode ?? null)
    const openDatabases = new Map<string, ReadableDb>([
      ['serverconf.sqlite', deps.databases.local],
      ['messagelog.sqlite', deps.databases.messageLog],
      ['opmonitor.sqlite', deps.databases.opMonitor],
    ])
    const written = await writeBackup({
      dataDir: layout.root, exclude: excludedFromBackup, openDatabases, out, key, createdAt,
      schemaOf: (db) => schemaVersions(db as WritableDb),
      manifest: {
        gatehouseVersion: GATEHOUSE_VERSION, kind, serverId: identity === undefined ? null : formatIdPath(identity.serverId),
        auditLog: { head: chain.head, anchorId: chain.anchor.lastPrunedId },
      },
    })
    const file: BackupFile = { name: basename(written.file), size: written.size, createdAt: createdAt.toISOString(), kind }
    return { file, manifest: written.manifest }
  }

  const lastScheduled = (): BackupFile | undefined => store.list().find((b) => b.kind === 'scheduled')
  const due = (): Date | null => {
    const { intervalHours } = deps.parameters()
    if (intervalHours <= 0 || store.readScheduleKey() === undefined) return null
    const last = lastScheduled()
    return last === undefined ? clock.now() : new Date(Date.parse(last.createdAt) + intervalHours * 3_600_000)
  }

  const runOnce = async (): Promise<void> => {
    if (deps.databases.shared !== undefined) return
    const next = due()
    if (next === null || next.getTime() > clock.now().getTime()) return
    const key = store.readScheduleKey()
    if (key === undefined) return
    const at = clock.now().toISOString()
    try {
      const { file, manifest } = await create(key, 'scheduled')
      const pruned = store.pruneScheduled(deps.parameters().keepScheduled)
      lastError = null
      appendAuditEntry(deps.databases.local, {
        at, actor: 'system', event: 'system.backup', outcome: 'success', object: file.name, errorCode: null,
        data: { after: { kind: 'scheduled', size: file.size, files: manifest.files.length }, pruned },
      })
      logger.info({ backup: file.name, pruned }, 'scheduled backup written')
    } catch (error) {
      const coded = toSecurityServerError(error)
      lastError = coded.message
      appendAuditEntry(deps.databases.local, { at, actor: 'system', event: 'system.backup', outcome: 'failure', object: null, errorCode: coded.code, data: { kind: 'scheduled' } })
      logger.error({ err: coded }, 'scheduled backup failed')
    }
  }

  return {
    store,
    create,
    runSchedule() {
      running ??= runOnce().finally(() => {
        running = undefined
      })
      return running
    },
    schedule() {
      const { intervalHours, keepScheduled } = deps.parameters()
      const next = due()
      return {
        intervalHours, keepScheduled, passphraseSet: store.readScheduleKey() !== undefined,
        lastScheduledAt: lastScheduled()?.createdAt ?? null, nextAt: next?.toISOString() ?? null, lastError,
      }
    },
  }
}

/**
 * A backup of a data directory from outside its server (`gatehouse backup create`): own connections to its databases
 * (SQLite's backup API reads a consistent snapshot while a running server writes).
 */
export async function backupDataDirectory(dataDir: string, key: DerivedKey, out?: string): Promise<{ file: BackupFile; path: string; manifest: BackupManifest }> {
  const layout = dataDirLayout(dataDir)
  const databases = openDatabases(layout)
  try {
    const backups = createServerBackups({
      layout, databases, serverConf: createServerConf(databases.serverConf), clock: systemClock, logger: silentLogger(), parameters: () => DEFAULT_BACKUP_SCHEDULE,
    })
    const made = await backups.create(key, 'manual', out)
    return { ...made, path: out ?? join(layout.backupsDir, made.file.name) }
  } finally {
    for (const db of [databases.local, databases.messageLog, databases.opMonitor]) closeDatabase(db)
  }
}

/**
 * `gatehouse restore`: a backup into a new data directory (refused when it is not empty), everything verified before
 * the directory appears; the restore is recorded at the end of the restored audit log.
 */
export async function restoreDataDirectory(options: { dataDir: string; file: string; passphrase: string; actor: string }): Promise<BackupManifest> {
  const manifest = await restoreIntoNewDirectory({ dataDir: options.dataDir, file: options.file, passphrase: options.passphrase, checkDatabase: checkRestoredDatabase })
  const db = openServerConfDatabase(dataDirLayout(options.dataDir))
  try {
    appendAuditEntry(db, {
      at: systemClock.now().toISOString(), actor: options.actor, event: 'system.restore', outcome: 'success', object: manifest.serverId, errorCode: null,
      data: { backup: { createdAt: manifest.createdAt, serverId: manifest.serverId, gatehouseVersion: manifest.gatehouseVersion, kind: manifest.kind, files: manifest.files.length } },
    })
  } finally {
    closeDatabase(db)
  }
  return manifest
}
