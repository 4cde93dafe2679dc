import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-operational-data'

export const opMonitoringMigrations: MigrationSet = { component: 'op-monitoring', migrations: [migration0001] }
