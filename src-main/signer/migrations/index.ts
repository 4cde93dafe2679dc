import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-keys-certificates-csrs'

export const signerMigrations: MigrationSet = { component: 'signer', migrations: [migration0001] }
