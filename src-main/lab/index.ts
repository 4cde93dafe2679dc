/**
 * The lab authority: a complete trust domain on one machine (CA, OCSP responder, time-stamping authority,
 * member registry and signed global configuration), fully offline, for small deployments, training and tests.
 */
export { labMigrations } from './migrations'
export {
  initLab, openLab, labPaths, LabAuthority, CONFIGURATION_VERSION, DEFAULT_CONF_EXPIRE_SECONDS, DEFAULT_LAB_PORTS,
  CERTIFICATE_STATUS_FORMAT, MANAGEMENT_PROVIDER, SECURITY_SERVER_OWNERS_GROUP, type CertificateStatusFile, type InitLabOptions, type InitLabResult, type IssuedCertificate, type GeneratedConfiguration, type LabPaths,
  type CsrInspection, type LabCertificate, type LabGlobalGroup, type LabMember, type LabSecurityServer,
} from './lab-authority'
export { LAB_KEY_ALGORITHMS, certificateToPem, type CaSigner, type ExternalCaKey, type LabKeyAlgorithm, type SignatureAlgorithmName } from './lab-pki'
export { buildSignedDirectory, type DirectoryContentPart, type SignedDirectory } from './signed-directory'
export { startLabServer, type LabServerOptions, type LabServerUrls, type RunningLabServer } from './lab-server'
export { answerOcspRequest, type CertificateStatus, type OcspResponderContext } from './ocsp-responder'
export { answerTimeStampRequest, LAB_TSA_POLICY, type TsaContext } from './tsa-responder'
export {
  answerManagementRequest, verifyManagementRequest, managementFaultXml, CENTRAL_SERVER_REFUSALS,
  type ManagementAnswer, type ManagementVerificationContext, type VerifiedManagementRequest,
} from './management-service'
export type { ManagementRequestRow, ManagementRequestStatus, ManagementRequestType } from './lab-repository'
