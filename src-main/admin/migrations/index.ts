import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-admin-accounts'

/** The admin component's tables in serverconf.sqlite. */
export const adminMigrations: MigrationSet = { component: 'admin', migrations: [migration0001] }
