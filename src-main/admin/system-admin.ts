import { join } from 'node:path'
import type { DatabaseInfo, SystemApi, SystemStatus } from '@shared/admin-api/admin-api'
import { backupDatabase, databaseSettings, schemaVersions, type Clock, type WritableDb } from '../platform'

export interface SystemAdminDeps {
  version: string
  dataDir: string
  backupsDir: string
  clock: Clock
  databases: Array<{ name: DatabaseInfo['name']; path: string; db: WritableDb }>
  status(): Pick<SystemStatus, 'state' | 'startedAt' | 'initialized' | 'listeners'>
}

export function createSystemAdmin(deps: SystemAdminDeps): SystemApi {
  return {
    async status() {
      return {
        version: deps.version,
        dataDir: deps.dataDir,
        ...deps.status(),
        databases: deps.databases.map(({ name, path, db }) => ({ name, path, ...databaseSettings(db), schema: schemaVersions(db) })),
      }
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
