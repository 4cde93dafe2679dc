/**
 * The signer: software and PKCS#11 tokens behind one TokenDriver, keys, CSRs, own certificates and their states,
 * the signing context the proxy signs with, batch signing over hash chains, and OCSP status of own certificates.
 */
export { signerMigrations } from './migrations'
export {
  createSigner, SOFTWARE_TOKEN_ID,
  type Signer, type SignerOptions, type TokenInfo, type KeyInfo, type CertificateInfo, type CertificateState, type GenerateCsrRequest,
  type GeneratedCsr, type CsrInfo, type SigningContext, type AuthKey, type SignerOcspOptions,
} from './signer'
export {
  BatchSigner, type BatchSignerOptions, type BatchSignerStats, type MessagePartToSign, type SignedMessage,
} from './batch-signer'
export { OcspClient, buildOcspRequest, ocspUrlsFromAia, type OcspClientOptions } from './ocsp-client'
export {
  DEFAULT_OCSP_FETCH_INTERVAL_SECONDS, type OcspSource, type OcspSources, type OcspStatus, type OcspStatusValue,
} from './ocsp-status'
export {
  KEY_ALGORITHMS, SIGN_ALGORITHMS, KEY_USAGES,
  type KeyAlgorithm, type SignAlgorithm, type KeyUsage, type TokenDriver, type TokenKey, type TokenStatus, type TokenDetails, type KeyAttributes,
} from './token-driver'
export { ecdsaRawToDer, ecdsaDerToRaw, defaultSignAlgorithm } from './sign-algorithms'
export { XROAD_PIN_POLICY, type PinPolicy } from './software/software-token-driver'
export { csrToPem, type CsrFormat } from './csr-builder'
export {
  importXroadKeyConf, parseXroadKeyConf, readXroadP12, MAX_P12_BYTES,
  type XroadKeyConfKey, type XroadKeyConfCert, type XroadKeyConfImportOptions, type XroadKeyConfImportReport,
} from './xroad-keyconf-import'
