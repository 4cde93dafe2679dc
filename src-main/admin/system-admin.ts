import { join } from 'node:path'
import type { DatabaseInfo, SystemApi, SystemStatus } from '@shared/admin-api/admin-api'
import { backupDatabase, clientError, databaseSettings, schemaVersions, type Clock, type WritableDb } from '../platform'

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
}

export function createSystemAdmin(deps: SystemAdminDeps): SystemApi {
  return {
    async status() {
      return {
        version: deps.version,
        dataDir: deps.dataDir,
        expectedListeners: [],
        readiness: { ready: false, checks: [] },
        restart: { supported: deps.restart !== undefined, required: false, reasons: [] },
        ...deps.status(),
        databases: deps.databases.map(({ name, path, db }) => ({ name, path, ...databaseSettings(db), schema: schemaVersions(db) })),
      }
    },
    async restart() {
      const restart = deps.restart
      if (restart === undefined) throw clientError('unsupported', 'This security server was started without a supervisor and cannot restart itself; restart it the way it was started')
      // Answer first, then restart: the caller's connection goes away with the admin listener.
      setTimeout(restart, 100)
      return { restarting: true as const }
    },
    async backup() {
      const stamp = deps.clock.now().toISOString().replace(/[:.]/g, '-')
      const directory = join(deps.backupsDir, stamp)
      const files: string[] = []
      for (const { name, db } of deps.databases) {
        const file = join(directory, `${name}.sqlite`)
        await backupDatabase(db, file)
        files.push(file)
      }
      return { directory, files }
    },
  }
}
