import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-message-records'

export const messageLogMigrations: MigrationSet = { component: 'message-log', migrations: [migration0001] }
