import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-cluster-nodes'

export const clusterMigrations: MigrationSet = { component: 'cluster', migrations: [migration0001] }
