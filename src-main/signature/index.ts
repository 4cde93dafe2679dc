/**
 * Message signatures: X-Road's XAdES signature documents, hash chains for batch signing and time-stamping, certificate
 * profiles, certificate-chain, OCSP and time-stamp verification, and ASiC-E evidence containers.
 */
export {
  certificateProfileFor, SUPPORTED_CERTIFICATE_PROFILES, type CertificateProfile, type SubjectOptions,
} from './certificate-profiles'
export {
  parseCertificate, certificateBytes, dnAttribute, isSigningCertificate, DN_OIDS,
  type DnAttribute, type DnAttributeType, type ParsedCertificate,
} from './certificate-util'
export {
  buildHashChains, buildHashChainDocuments, HashChainTree, verifyHashChain, parseHashChain, parseHashChainResult, stepDigest, concatDigests,
  type HashChainInput, type HashChainPart, type HashChains, type HashChainDocuments, type HashChainInputValue, type HashChainVerification,
  type HashChainVerificationResult, type ParsedHashChain, type ParsedHashChainResult, type HashChainValue,
} from './hash-chain'
export { base64Of, DIGEST_URIS, digest, partDigest, type DigestAlgorithm } from './xml-support'
export {
  verificationTrust, DEFAULT_OCSP_FRESHNESS_SECONDS, type VerificationTrust, type ApprovedCa, type ApprovedTsa,
} from './verification-trust'
export {
  buildSignature, buildSignatureBytes, signingMaterial, parseSignature, embedSignatureTimestamp, MESSAGE_URI, SIG_HASH_CHAIN_RESULT_URI, SIG_HASH_CHAIN_URI,
  type BuildSignatureOptions, type SignerCertificates, type SigningMaterial, type SignRequest, type ParsedSignature, type SignatureReference,
} from './signature-document'
export { verifySignature, type VerifySignatureOptions, type SignatureVerificationResult, type SignedPart } from './signature-verifier'
export { SignatureVerificationCache, type VerificationCacheStats } from './verification-cache'
export { SignerPathCache, type SignerPathCacheStats } from './signer-path-cache'
export { SIGNATURE_URIS, defaultSignatureAlgorithm, ecdsaDerToRaw, type SignatureAlgorithm } from './signature-algorithms'
export { verifyOcspResponse, parseOcspResponse, type OcspInfo } from './ocsp-verifier'
export { buildCertPath, validateCertPath, verifyPathOcsp, type CertPath } from './cert-chain-verifier'
export { verifyTimestamp, parseTimestampToken, type TimestampInfo } from './timestamp-verifier'
export { asicTrustFromGlobalConf, verificationTrustFromGlobalConf } from './global-conf-trust'
export {
  writeAsicContainer, readAsicContainer, ASIC_MIME_TYPE, type AsicRecord, type AsicContents, type AsicReadLimits,
} from './asic-container'
export {
  verifyAsicContainer, signerFromMessage, describeSigner, type AsicVerificationResult, type AsicTrust, type AsicTrustInput,
} from './asic-verifier'
export { singleTimestampData, buildTimestampHashChains, TS_HASH_CHAIN_URI, TS_SIGNATURE_DATA_URI } from './timestamp-imprint'
