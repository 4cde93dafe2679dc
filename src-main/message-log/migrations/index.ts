import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-message-records'
import { migration0002 } from './0002-exchange-page-indexes'
import { migration0003 } from './0003-evidence-chain'
import { migration0004 } from './0004-record-contents'
import { migration0005 } from './0005-attachment-pieces'
import { migration0006 } from './0006-timestamp-references'

export const messageLogMigrations: MigrationSet = { component: 'message-log', migrations: [migration0001, migration0002, migration0003, migration0004, migration0005, migration0006] }
