import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-operational-data'
import { migration0002 } from './0002-message-id-index'
import { migration0003 } from './0003-failure-index'
import { migration0004 } from './0004-rollups'

export const opMonitoringMigrations: MigrationSet = { component: 'op-monitoring', migrations: [migration0001, migration0002, migration0003, migration0004] }
