/**
 * Server configuration: this security server's identity (owner, server code), its clients, services,
 * endpoints, access rights and local groups, and the system parameters an administrator sets.
 */
export { serverConfMigrations } from './migrations'
export { findServerIdentity, saveServerIdentity, type ServerIdentity } from './server-identity-repository'
export {
  getManagementRequestRow, insertManagementRequest, listManagementRequestRows, settleManagementRequest, type ManagementRequestRow, type NewManagementRequestRow,
} from './management-request-repository'
export { readSystemParameters, writeSystemParameter, deleteSystemParameter } from './system-parameters-repository'
export { BASE_ENDPOINT, DEFAULT_SERVICE_TIMEOUT_SECONDS } from './service-rules'
export {
  SERVICE_DESCRIPTION_TYPES, DESCRIPTION_WARNING_CODES, DEFAULT_DISABLED_NOTICE, RESERVED_SERVICE_CODES,
  type ServiceDescription, type ServiceDescriptionType, type DescriptionWarning, type DescriptionWarningCode, type DescriptionChange,
} from './service-descriptions'
export { parseWsdl, WSDL_LIMITS, MAX_WSDL_SERVICES, type WsdlService } from './wsdl-parser'
export { anonymiseOpenApi, type OpenApiFormat } from './openapi-anonymiser'
export { parseOpenApi, yamlNestingDepth, MAX_OPENAPI_BYTES, MAX_OPENAPI_ENDPOINTS, type ParsedOpenApi, type OpenApiEndpoint } from './openapi-parser'
export {
  downloadDescription, fetchDescription, descriptionUrl, DEFAULT_DESCRIPTION_TIMEOUT_MS, type DescriptionDownloadOptions, type DownloadedDescription,
} from './description-client'
export {
  createServerConf, CLIENT_STATES, IS_AUTHENTICATION_MODES,
  type ServerConf, type ClientState, type IsAuthentication, type LocalClient, type IsCertificate, type ConfiguredService,
  type Endpoint, type AccessRight, type LocalGroup, type ServiceInput, type EndpointRef, type ClientRemoval, type ClientRequestSender,
} from './server-conf'
