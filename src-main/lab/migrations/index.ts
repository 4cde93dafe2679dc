import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-lab-state'
import { migration0002 } from './0002-lab-ocsp-fetch-interval'
import { migration0003 } from './0003-lab-management-requests'
import { migration0004 } from './0004-lab-maintenance-and-names'
import { migration0005 } from './0005-lab-client-enabled'

export const labMigrations: MigrationSet = { component: 'lab', migrations: [migration0001, migration0002, migration0003, migration0004, migration0005] }
