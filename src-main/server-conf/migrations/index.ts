import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-server-identity-and-parameters'
import { migration0002 } from './0002-clients-services-access-rights'
import { migration0003 } from './0003-configuration-anchor-file'
import { migration0004 } from './0004-timestamping-services'
import { migration0005 } from './0005-service-descriptions'
import { migration0006 } from './0006-management-requests'

export const serverConfMigrations: MigrationSet = {
  component: 'server-conf',
  migrations: [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006],
}
