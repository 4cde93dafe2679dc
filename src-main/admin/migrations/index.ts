import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-admin-accounts'
import { migration0002 } from './0002-login-failures'

/** The admin component's tables in serverconf.sqlite. */
export const adminMigrations: MigrationSet = { component: 'admin', migrations: [migration0001, migration0002] }
