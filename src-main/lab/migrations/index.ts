import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-lab-state'

export const labMigrations: MigrationSet = { component: 'lab', migrations: [migration0001] }
