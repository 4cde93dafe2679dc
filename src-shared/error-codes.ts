/**
 * The one error-code catalogue. Leaf codes follow X-Road 7.8 (`ErrorCodes.java` after commit e7617188a3:
 * snake_case). A full fault code is the leaf prefixed by where it arose, e.g.
 * `server.clientproxy.service_failed.missing_body` (see `ERROR_ORIGINS`).
 */
export const ERROR_ORIGINS = {
  client: 'client',
  clientProxy: 'server.clientproxy',
  serverProxy: 'server.serverproxy',
  signer: 'signer',
} as const
export type ErrorOrigin = (typeof ERROR_ORIGINS)[keyof typeof ERROR_ORIGINS]

/** X-Road 7.8 leaf codes (xroad-error-codes.md, column "7.8.0/HEAD"). */
export const XROAD_ERROR_CODES = [
  'io_error', 'network_error', 'internal_error', 'bad_request', 'not_found', 'http_error', 'database_error',
  'invalid_request', 'cannot_create_signature', 'cert_validation', 'incorrect_validation_info',
  'cannot_create_cert_path', 'incorrect_certificate', 'invalid_signature_value', 'malformed_signature',
  'invalid_xml', 'invalid_reference', 'invalid_cert_path', 'signature_verification', 'invalid_hash_chain',
  'malformed_hash_chain', 'hashchain_unused_inputs', 'invalid_hash_chain_ref', 'ssl_authentication_failed',
  'logging_failed', 'timestamping_failed', 'invalid_content_type', 'invalid_http_method', 'invalid_message',
  'invalid_security_server', 'mime_parsing_failed', 'missing_header', 'missing_header_field',
  'duplicate_header_field', 'missing_body', 'invalid_body', 'inconsistent_headers', 'inconsistent_response',
  'missing_soap', 'invalid_soap', 'missing_rest', 'access_denied', 'service_disabled', 'service_failed',
  'missing_signature', 'unknown_service', 'invalid_protocol_version', 'invalid_client_identifier', 'service_type',
  'client_proxy_version_not_supported', 'asic_mime_type_not_found', 'asic_signature_not_found',
  'asic_message_not_found', 'asic_invalid_mime_type', 'asic_hash_chain_result_not_found',
  'asic_hash_chain_not_found', 'asic_timestamp_not_found', 'asic_manifest_not_found', 'unknown_member',
  'malformed_server_conf', 'malformed_global_conf', 'malformed_optional_parts_conf', 'global_conf_outdated',
  'service_missing_url', 'service_malformed_url', 'hsm_non_operational', 'maintenance_mode', 'key_not_found',
  'cert_not_found', 'csr_not_found', 'token_not_found', 'token_not_active', 'token_not_initialized',
  'token_not_available', 'token_readonly', 'cannot_sign', 'unsupported_sign_algorithm',
  'failed_to_generate_private_key', 'cert_exists', 'wrong_cert_usage', 'login_failed', 'logout_failed',
  'pin_incorrect', 'cert_import_failed', 'token_pin_policy_failure', 'timestamper_failed', 'unknown_host',
  'invalid_soap_action', 'malformed_anchor', 'anchor_file_not_found',
  // `ErrorCode.java` time-stamp verification (`TimestampVerifier`), raised with the prefix `mlog.`.
  'no_timestamping_provider_found', 'tsp_certificate_not_found', 'timestamp_token_signer_info_not_found',
  'timestamp_signer_verification_failed',
] as const

/**
 * X-Road 7.8 admin API codes for refused configuration changes (`DeviationCodes.java`, `ErrorCode.java`): the owner
 * member cannot be deleted, registered or unregistered; a state change the client's state does not allow; the generated
 * whole-service endpoint cannot be edited or removed.
 */
export const XROAD_ADMIN_ERROR_CODES = [
  'cannot_delete_owner', 'cannot_register_owner', 'cannot_unregister_owner', 'action_not_possible',
  'illegal_generated_endpoint_update', 'illegal_generated_endpoint_remove',
  // Service descriptions (DeviationCodes.java ERROR_*, ErrorMessage.SERVICE_DESCRIPTION_NOT_FOUND).
  'malformed_url', 'wsdl_download_failed', 'invalid_wsdl', 'wsdl_exists', 'invalid_wsdl_service_identifier', 'invalid_service_url',
  'service_already_exists', 'service_code_already_exists', 'service_code_reserved', 'url_already_exists', 'openapi_parsing_error',
  'unsupported_openapi_version', 'wrong_servicedescription_type', 'service_description_not_found',
  // Central server management requests (X-Road CS admin-service ErrorMessage.MR_*), refused by the lab's management service.
  'management_request_not_found', 'management_request_exists', 'management_request_security_server_exists',
  'management_request_invalid_auth_certificate', 'management_request_invalid_state_for_approval',
  'management_request_server_owner_not_found', 'management_request_not_supported', 'management_request_cannot_register_owner',
  'management_request_member_not_found', 'management_request_server_not_found', 'management_request_client_already_registered',
  'management_request_server_client_not_found', 'management_request_server_already_in_maintenance_mode',
  'management_request_server_not_in_maintenance_mode', 'mr_forbidden_enable_maintenance_mode_for_management_service',
  'management_request_only_subsystem_rename_allowed', 'management_request_owner_must_be_member', 'management_request_owner_must_be_client',
  'management_request_client_already_owner', 'management_request_server_code_exists', 'mr_forbidden_disable_management_service_client',
] as const

/**
 * Codes X-Road has no constant for, used where Gatehouse reports something X-Road does not
 * (identifier validation details, configuration files, admin API, lab, ceremony).
 */
export const GATEHOUSE_ERROR_CODES = [
  'invalid_identifier', 'invalid_config', 'config_file_not_found', 'migration_failed', 'database_integrity',
  'unauthorized', 'forbidden', 'csrf_failed', 'rate_limited', 'conflict', 'validation_failed',
  'not_initialized', 'already_initialized', 'body_too_large', 'timeout', 'token_locked',
  'pin_policy_violation', 'ceremony_step_refused', 'transcript_invalid', 'archive_invalid', 'unsupported', 'server_busy',
  'audit_chain_broken', 'backup_invalid', 'secondary_node_read_only',
] as const

export type XRoadErrorCode = (typeof XROAD_ERROR_CODES)[number]
export type XRoadAdminErrorCode = (typeof XROAD_ADMIN_ERROR_CODES)[number]
export type GatehouseErrorCode = (typeof GATEHOUSE_ERROR_CODES)[number]
export type ErrorCode = XRoadErrorCode | XRoadAdminErrorCode | GatehouseErrorCode

const ALL_CODES: ReadonlySet<string> = new Set<string>([...XROAD_ERROR_CODES, ...XROAD_ADMIN_ERROR_CODES, ...GATEHOUSE_ERROR_CODES])

export function isErrorCode(value: string): value is ErrorCode {
  return ALL_CODES.has(value)
}

/**
 * X-Road ≤ 7.7 spelled codes in CamelCase (`Server.ClientProxy.SslAuthenticationFailed`), 7.8 in snake_case.
 * Compare fault codes from peers case-insensitively and without underscores (xroad-protocols.md §2.6).
 */
export function normalizeFaultCode(code: string): string {
  return code.replace(/_/g, '').toLowerCase()
}

/** Serializable form of an error for transports (IPC, HTTP admin API). */
export interface ErrorDto {
  code: string
  message: string
  detail?: string
  /** The facts of a refusal that names its reason in `detail`, for a screen to word it in the reader's language. */
  params?: Record<string, string | number>
}
