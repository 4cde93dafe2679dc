import { z } from 'zod'
import {
  BACKUP_CHUNK_BYTES, BACKUP_PASSPHRASE_MIN, type BackupScheduleDto, type BackupsDto, type ClusterNodesDto, type DatabaseInfo, type NodeTypeDto, type SharedDatabaseInfo, type SystemApi,
  type SystemStatus,
} from '@shared/admin-api/admin-api'
import { deriveKey, stageRestore, type BackupFile, type BackupManifest, type BackupStore, type DerivedKey } from '../backup'
import { SecurityServerError, clientError, databaseSettings, schemaVersions, type Clock, type WritableDb } from '../platform'
import { validate } from './admin-validation'
import { currentCaller } from './caller-context'
import type { AuditRecord } from './dispatch'

/** The server's backups as the system group uses them (the composition root decides what goes in and how restored databases are checked). */
export interface BackupHost {
  store: BackupStore
  create(key: DerivedKey, kind: BackupFile['kind']): Promise<{ file: BackupFile; manifest: BackupManifest }>
  schedule(): BackupScheduleDto
  /** Makes a scheduled backup when one is due (right after a passphrase is set, the first one is). */
  runSchedule?(): Promise<void>
  /** Null when a restore into this server is possible (it is fresh), else why not. */
  restoreRefusal(): BackupsDto['restoreRefusal']
  checkDatabase(path: string, absolutePath: string): void
}

export interface SystemAdminDeps {
  version: string
  dataDir: string
  backupsDir: string
  clock: Clock
  databases: Array<{ name: DatabaseInfo['name']; path: string; db: WritableDb }>
  /** The running state; a runtime without proxy (admin-only tests) may leave out listeners, readiness and restart. */
  status(): Pick<SystemStatus, 'state' | 'startedAt' | 'initialized' | 'listeners'> & Partial<Pick<SystemStatus, 'expectedListeners' | 'readiness' | 'restart'>>
  /** Restarts the server in this process; absent when nothing supervises it (tests, embedded use). */
  restart?(): void
  /** Backups; absent in admin-only runtimes without a data directory's domains. */
  backups?: BackupHost
  /** Cluster mode: this node's type and the nodes' registry; absent when standalone. */
  cluster?: { nodeType(): NodeTypeDto; nodes(): ClusterNodesDto; forget(name: string): void }
  /** Cluster mode: the shared configuration database, asked at each status (absent when standalone). */
  sharedDatabase?(): SharedDatabaseInfo
}

const STANDALONE: ClusterNodesDto = { nodeType: 'STANDALONE', heartbeatSeconds: 0, staleAfterSeconds: 0, nodes: [], changeFeed: null }

const passphrase = z.string().min(BACKUP_PASSPHRASE_MIN, `A backup passphrase has at least ${BACKUP_PASSPHRASE_MIN} characters`).max(1024)
const name = z.string().min(1).max(200)
const base64 = z.string().max(Math.ceil(BACKUP_CHUNK_BYTES / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')

/** X-Road's reasons why a restore is refused on a server that is in use, as the GUI words them (`detail: not-fresh`). */
const REFUSAL_TEXT: Record<NonNullable<BackupsDto['restoreRefusal']>, string> = {
  initialized: 'this server has already joined an instance',
  token: 'this server already has a software token',
  lab: 'this server hosts a lab',
}

export function createSystemAdmin(deps: SystemAdminDeps & { audit?: (record: AuditRecord) => void }): SystemApi {
  // A data-directory backup holds SQLite files; a cluster node's configuration is the shared PostgreSQL database, so
  // restoring one would split the node from the cluster: PostgreSQL's own tools (README "Running a cluster").
  const refuseRestoreInCluster = (): void => {
    if (deps.cluster === undefined) return
    throw clientError('unsupported', 'This node is in a cluster: its server configuration is the shared PostgreSQL database; restore that with pg_restore (README "Running a cluster"), not a data-directory backup', { detail: 'cluster' })
  }
  const host = (): BackupHost => {
    if (deps.backups === undefined) throw clientError('unsupported', 'This admin runtime has no data directory to back up')
    return deps.backups
  }
  return {
    async status() {
      return {
        version: deps.version,
        dataDir: deps.dataDir,
        expectedListeners: [],
        readiness: { ready: false, checks: [] },
        restart: { supported: deps.restart !== undefined, required: false, reasons: [] },
        ...deps.status(),
        databases: deps.databases.map(({ name: n, path, db }) => ({ name: n, path, ...databaseSettings(db), schema: schemaVersions(db) })),
        ...(deps.sharedDatabase === undefined ? {} : { sharedDatabase: deps.sharedDatabase() }),
      }
    },
    async nodeType() {
      return deps.cluster?.nodeType() ?? { nodeType: 'STANDALONE', nodeName: null }
    },
    async clusterNodes() {
      return deps.cluster?.nodes() ?? STANDALONE
    },
    async forgetClusterNode(input) {
      const given = validate(z.object({ name: z.string().min(1).max(100) }).strict(), input, 'cluster node')
      if (deps.cluster === undefined) throw clientError('unsupported', 'This security server is not in a cluster', { detail: 'cluster' })
      deps.cluster.forget(given.name)
    },
    async restart() {
      const restart = deps.restart
      if (restart === undefined) throw clientError('unsupported', 'This security server was started without a supervisor and cannot restart itself; restart it the way it was started')
      // Answer first, then restart: the caller's connection goes away with the admin listener.
      setTimeout(restart, 100)
      return { restarting: true as const }
    },
    async backup(input) {
      const given = validate(z.object({ passphrase }).strict(), input, 'backup')
      const { file, manifest } = await host().create(await deriveKey(given.passphrase), 'manual')
      return { ...file, files: manifest.files.length, databases: manifest.databases.map((d) => d.path) }
    },
    async backups() {
      const backups = host()
      return { backups: backups.store.list(), schedule: backups.schedule(), directory: backups.store.dir, restoreRefusal: backups.restoreRefusal() }
    },
    async downloadBackup(input) {
      const given = validate(z.object({ name, offset: z.number().int().min(0) }).strict(), input, 'backup download')
      const { data, size } = host().store.read(given.name, given.offset, BACKUP_CHUNK_BYTES)
      if (given.offset === 0) {
        deps.audit?.({ actor: currentCaller().actor, event: 'system.downloadBackup', outcome: 'success', errorCode: null, object: given.name, data: { size } })
      }
      return { name: given.name, offset: given.offset, size, data: data.toString('base64'), done: given.offset + data.length >= size }
    },
    async deleteBackup(input) {
      const given = validate(z.object({ name }).strict(), input, 'backup')
      host().store.delete(given.name)
    },
    async setBackupSchedule(input) {
      const given = validate(z.object({ passphrase: passphrase.nullable() }).strict(), input, 'backup schedule')
      const backups = host()
      backups.store.writeScheduleKey(given.passphrase === null ? undefined : await deriveKey(given.passphrase), deps.clock.now())
      // The first scheduled backup is due at once; it is written in the background.
      if (given.passphrase !== null) void backups.runSchedule?.()
      return backups.schedule()
    },
    async uploadBackup(input) {
      const given = validate(z.object({ upload: z.string().max(64).optional(), offset: z.number().int().min(0), data: base64 }).strict(), input, 'backup upload')
      refuseRestoreInCluster()
      return host().store.appendUpload(given.upload, given.offset, Buffer.from(given.data, 'base64'), deps.clock.now())
    },
    async restore(input) {
      const given = validate(z.object({ upload: z.string().max(64), passphrase: z.string().min(1).max(1024) }).strict(), input, 'restore')
      refuseRestoreInCluster()
      const backups = host()
      const refusal = backups.restoreRefusal()
      if (refusal !== null) {
        throw new SecurityServerError('conflict', `A backup is restored only into a fresh server, and ${REFUSAL_TEXT[refusal]}: restore it on a new data directory (gatehouse restore --data-dir NEW --from FILE)`, {
          detail: 'not-fresh', params: { reason: refusal }, clientFault: true,
        })
      }
      const file = backups.store.uploadPath(given.upload)
      const manifest = await stageRestore({
        file, passphrase: given.passphrase, dataDir: deps.dataDir, actor: currentCaller().actor, now: deps.clock.now(), checkDatabase: backups.checkDatabase,
      })
      backups.store.removeUpload(given.upload)
      const restart = deps.restart
      // Answer first, then restart: the restart stops this server, which puts the restored data in place.
      if (restart !== undefined) setTimeout(restart, 100)
      return {
        restarting: restart !== undefined,
        backup: { createdAt: manifest.createdAt, serverId: manifest.serverId, gatehouseVersion: manifest.gatehouseVersion, files: manifest.files.length },
      }
    },
  }
}
