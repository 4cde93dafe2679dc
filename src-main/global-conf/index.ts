/**
 * Global configuration client: parses shared/private parameters V2–V6 into a typed read model, reads the
 * stored configuration directory, verifies signed configuration directories and keeps them up to date.
 */
export type {
  AcmeServer, AnchorSource, ApprovedCa, ApprovedTsa, AuthCertHashAlgorithm, CaInfo, CentralService,
  ConfVersion, ConfigurationAnchor, ConfigurationSource, CostType, GlobalConfSnapshot, GlobalGroup,
  InstanceConfiguration, ManagementService, Member, MemberClass, OcspResponder, PartMetadata, PrivateParameters,
  SecurityServer, SharedParameters, Subsystem,
} from './conf-model'
export { DEFAULT_OCSP_FRESHNESS_SECONDS, DEFAULT_OCSP_FETCH_INTERVAL_SECONDS } from './conf-model'
export { decodeCertificate } from './conf-xml'
export { parseSharedParameters } from './shared-parameters-parser'
export {
  parsePrivateParameters, parseMonitoringParameters, parseFetchIntervalParameters, parseNextUpdateParameters,
} from './private-parameters-parser'
export { parseConfigurationAnchor, anchorHash, type ParsedAnchor } from './anchor'
export { readConfigurationDirectory, parsePartMetadata } from './configuration-directory'
export { GlobalConf, type ApprovedCaMatch } from './global-conf'
export {
  parseSignedDirectory, verifySignedDirectory, checkPartHash, partHashMatches, partsRootReader, verificationReason,
  directoryError, digestForUri, SIGNATURE_ALGORITHM_URIS,
  type ContentPart, type SignedDirectory, type VerifiedDirectory, type VerifyDirectoryOptions, type DirectoryFailure,
} from './signed-directory'
export { snapshotToJson } from './conf-json'
export { verificationConfEntries, type VerificationConfEntry } from './verification-conf'
export { readStoredConfiguration, currentGenerationDir, commitGeneration, type StoredFile } from './configuration-store'
export {
  createGlobalConfService, DEFAULT_CONF_UPDATE_INTERVAL_SECONDS, fetchDirectory, httpGet, orderDownloadCandidates, shuffled, storedFileName,
  type DownloadCandidate, type GlobalConfService, type GlobalConfServiceOptions, type AllowedFederations, type DownloadedDirectory,
} from './configuration-client'
