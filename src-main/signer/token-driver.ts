/**
 * The seam between the signer and a key store: the software token and PKCS#11 tokens implement the same
 * `TokenDriver`, and one contract suite (tests/signer/token-driver-contract.ts) runs against both.
 * code-style-models.md convention 7: sessions belong to the driver; PINs go in and never come out.
 */

/** Key pair types the signer generates (xroad-features-and-user-asks.md F: RSA 2048–4096 and EC P-256). */
export const KEY_ALGORITHMS = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256'] as const
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number]

/** Signature mechanisms over a digest computed by the caller (xroad-protocols.md §4.6: the signer gets only the digest). */
export const SIGN_ALGORITHMS = [
  'rsa-pkcs1-sha256', 'rsa-pkcs1-sha384', 'rsa-pkcs1-sha512',
  'rsa-pss-sha256', 'rsa-pss-sha384', 'rsa-pss-sha512',
  'ecdsa-sha256', 'ecdsa-sha384', 'ecdsa-sha512',
] as const
export type SignAlgorithm = (typeof SIGN_ALGORITHMS)[number]

export const KEY_USAGES = ['sign', 'auth'] as const
export type KeyUsage = (typeof KEY_USAGES)[number]

export interface TokenKey {
  /** Hex; `CKA_ID` on PKCS#11, the file name on the software token. */
  readonly keyId: string
  readonly label: string
  readonly algorithm: KeyAlgorithm
  /** SubjectPublicKeyInfo DER. */
  readonly publicKeyDer: Uint8Array
}

/** Status of a token as an administrator sees it (X-Road's TokenStatusInfo). */
export interface TokenStatus {
  readonly kind: 'software' | 'pkcs11'
  readonly label: string
  readonly serialNumber: string
  readonly available: boolean
  readonly loggedIn: boolean
  readonly initialized: boolean
  readonly pinCountLow: boolean
  readonly pinFinalTry: boolean
  readonly pinLocked: boolean
  readonly manufacturer?: string
  readonly model?: string
  /** Raw `CK_TOKEN_INFO.flags` for PKCS#11 tokens. */
  readonly flags?: number
}

/** What a PKCS#11 module and token say about themselves (CK_INFO, CK_SLOT_INFO, CK_TOKEN_INFO, mechanism list). */
export interface TokenDetails {
  readonly module: { readonly manufacturer: string; readonly description: string; readonly libraryVersion: string; readonly cryptokiVersion: string }
  readonly slotDescription: string
  readonly label: string
  readonly manufacturer: string
  readonly model: string
  readonly serialNumber: string
  readonly hardwareVersion: string
  readonly firmwareVersion: string
  /** Mechanism names (`CKM_…`, or hex for vendor mechanisms), sorted. */
  readonly mechanisms: readonly string[]
}

/** A private key's attributes as the token reports them (reliability-and-security.md §4.3). */
export type KeyAttributes = Readonly<Record<
  'CKA_TOKEN' | 'CKA_PRIVATE' | 'CKA_SENSITIVE' | 'CKA_EXTRACTABLE' | 'CKA_NEVER_EXTRACTABLE' | 'CKA_ALWAYS_SENSITIVE' | 'CKA_LOCAL' | 'CKA_SIGN' | 'CKA_DECRYPT',
  boolean
>>

export interface TokenDriver {
  readonly kind: 'software' | 'pkcs11'
  status(): Promise<TokenStatus>
  /** Logs the user in; a wrong PIN is `pin_incorrect`, a locked token `token_locked`. */
  login(pin: string): Promise<void>
  logout(): Promise<void>
  changePin(oldPin: string, newPin: string): Promise<void>
  generateKey(algorithm: KeyAlgorithm, label: string): Promise<TokenKey>
  /**
   * Stores a private key made elsewhere (PKCS#8 DER) under `keyId` (hex), for migration from another security server
   * (`gatehouse import xroad-keyconf`). Such a key was outside the device once: a PKCS#11 token marks it neither
   * CKA_LOCAL nor CKA_NEVER_EXTRACTABLE. @throws unsupported (key type), conflict (key id taken)
   */
  importKey(pkcs8: Uint8Array, label: string, keyId: string): Promise<TokenKey>
  listKeys(): Promise<TokenKey[]>
  /**
   * Signs a digest the caller computed. RSA results are the PKCS#1 signature; ECDSA results are raw r‖s
   * (XMLDSig form, xroad-protocols.md §4.6) — convert with `ecdsaRawToDer` where DER is needed. `data`, when the
   * caller has it, is what `digest` was computed over: a driver that can sign data natively (the software token)
   * uses it; a device driver ignores it.
   */
  sign(keyId: string, algorithm: SignAlgorithm, digest: Uint8Array, data?: Uint8Array): Promise<Uint8Array>
  deleteKey(keyId: string): Promise<void>
  close(): Promise<void>
  /** Module and token identification (PKCS#11 tokens only). */
  details?(): Promise<TokenDetails>
  /** The private key's attributes read back from the device (PKCS#11 tokens only). */
  keyAttributes?(keyId: string): Promise<KeyAttributes>
}
