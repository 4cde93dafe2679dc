import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-audit-log'
import { migration0002 } from './0002-hash-chain'

export const auditLogMigrations: MigrationSet = { component: 'audit-log', migrations: [migration0001, migration0002] }
