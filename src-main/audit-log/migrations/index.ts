import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-audit-log'

export const auditLogMigrations: MigrationSet = { component: 'audit-log', migrations: [migration0001] }
