/**
 * Server configuration: this security server's identity (owner, server code), its clients, services,
 * endpoints, access rights and local groups, and the system parameters an administrator sets.
 */
export { serverConfMigrations } from './migrations'
export { findServerIdentity, saveServerIdentity, type ServerIdentity } from './server-identity-repository'
export { readSystemParameters, writeSystemParameter, deleteSystemParameter } from './system-parameters-repository'
export {
  createServerConf, CLIENT_STATES, IS_AUTHENTICATION_MODES, BASE_ENDPOINT, DEFAULT_SERVICE_TIMEOUT_SECONDS,
  type ServerConf, type ClientState, type IsAuthentication, type LocalClient, type IsCertificate, type ConfiguredService,
  type Endpoint, type AccessRight, type LocalGroup, type ServiceInput, type EndpointRef, type ClientRemoval, type ClientRequestSender,
} from './server-conf'
