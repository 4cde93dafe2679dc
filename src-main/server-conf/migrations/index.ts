import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-server-identity-and-parameters'

export const serverConfMigrations: MigrationSet = { component: 'server-conf', migrations: [migration0001] }
