/**
 * Server configuration: this security server's identity (owner, server code), its clients, services,
 * endpoints, access rights and local groups, and the system parameters an administrator sets.
 */
export { serverConfMigrations } from './migrations'
export { findServerIdentity, saveServerIdentity, type ServerIdentity } from './server-identity-repository'
export { readSystemParameters, writeSystemParameter, deleteSystemParameter } from './system-parameters-repository'
