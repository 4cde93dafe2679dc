import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-alerts'

export const alertsMigrations: MigrationSet = { component: 'alerts', migrations: [migration0001] }
