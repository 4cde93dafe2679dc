import type { MigrationSet } from '../../platform'
import { migration0001 } from './0001-keys-certificates-csrs'
import { migration0002 } from './0002-ocsp-state-certificate-chains'

export const signerMigrations: MigrationSet = { component: 'signer', migrations: [migration0001, migration0002] }
