import { createHash, createHmac, randomBytes } from 'node:crypto'
import { clientError } from '../platform'
import type { KeyAlgorithm, SignAlgorithm } from './token-driver'

/**
 * Algorithm plumbing shared by both drivers: DigestInfo wrapping for `CKM_RSA_PKCS` (xroad-protocols.md §4.6,
 * X-Road's `SignDataPreparer.RsaPkcsPreparer`), EMSA-PSS encoding (RFC 8017 §9.1.1), ECDSA raw r‖s ↔ DER
 * (toolchain-notes.md §6) and ECDSA P-256 over a pre-computed digest for the software token (FIPS 186-4 §6.4,
 * nonces per RFC 6979 §3.2 with §3.6 additional random data).
 */

export type DigestName = 'sha256' | 'sha384' | 'sha512'

const DIGEST_LENGTH: Record<DigestName, number> = { sha256: 32, sha384: 48, sha512: 64 }

/** DER prefixes of `DigestInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }` (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Record<DigestName, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
}

export function digestOf(algorithm: SignAlgorithm): DigestName {
  return algorithm.slice(algorithm.lastIndexOf('-') + 1) as DigestName
}

export function isRsaAlgorithm(algorithm: SignAlgorithm): boolean {
  return algorithm.startsWith('rsa-')
}

/** Refuses a digest whose length does not match the algorithm, or an algorithm that does not fit the key. */
export function checkSignRequest(keyAlgorithm: KeyAlgorithm, algorithm: SignAlgorithm, digest: Uint8Array): void {
  const rsaKey = keyAlgorithm.startsWith('rsa-')
  if (rsaKey !== isRsaAlgorithm(algorithm)) {
    throw clientError('unsupported_sign_algorithm', `Signature algorithm ${algorithm} does not fit a ${keyAlgorithm} key`)
  }
  const expected = DIGEST_LENGTH[digestOf(algorithm)]
  if (digest.length !== expected) {
    throw clientError('invalid_request', `A ${algorithm} digest has ${expected} bytes, got ${digest.length}`)
  }
}

/**
 * The message-signing algorithm for a key: X-Road's `SignAlgorithm.ofDigestAndMechanism` with the proxy's
 * `message-sign-digest-name` (default SHA-512) and the key's mechanism, so `SHA512withRSA` for RSA keys and
 * `SHA512withECDSA` (xmldsig-more#ecdsa-sha512) for EC keys (xroad-protocols.md §4.6).
 */
export function defaultSignAlgorithm(keyAlgorithm: KeyAlgorithm): SignAlgorithm {
  return keyAlgorithm === 'ec-p256' ? 'ecdsa-sha512' : 'rsa-pkcs1-sha512'
}

export function wrapDigestInfo(digestName: DigestName, digest: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[digestName], 'hex'), digest])
}

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(hash: DigestName, seed: Uint8Array, length: number): Buffer {
  const out: Buffer[] = []
  let total = 0
  for (let counter = 0; total < length; counter++) {
    const c = Buffer.alloc(4)
    c.writeUInt32BE(counter)
    const block = createHash(hash).update(seed).update(c).digest()
    out.push(block)
    total += block.length
  }
  return Buffer.concat(out).subarray(0, length)
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with salt length = digest length and MGF1 over the same hash. */
export function emsaPssEncode(hash: DigestName, mHash: Uint8Array, modulusBits: number): Buffer {
  const emBits = modulusBits - 1
  const emLen = Math.ceil(emBits / 8)
  const hLen = DIGEST_LENGTH[hash]
  const sLen = hLen
  const salt = randomBytes(sLen)
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest()
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([0x01]), salt])
  const mask = mgf1(hash, h, emLen - hLen - 1)
  for (let i = 0; i < db.length; i++) db[i] = (db[i] ?? 0) ^ (mask[i] ?? 0)
  db[0] = (db[0] ?? 0) & (0xff >> (8 * emLen - emBits))
  const em = Buffer.concat([db, h, Buffer.from([0xbc])])
  return emLen * 8 === modulusBits ? em : Buffer.concat([Buffer.alloc(Math.ceil(modulusBits / 8) - emLen), em])
}

function derInteger(bytes: Uint8Array): Buffer {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  let body = Buffer.from(bytes.subarray(start))
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body])
  return Buffer.concat([Buffer.from([0x02]), derLength(body.length), body])
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length])
  if (length < 0x100) return Buffer.from([0x81, length])
  return Buffer.from([0x82, length >> 8, length & 0xff])
}

/** Raw r‖s (PKCS#11 `CKM_ECDSA` output, XMLDSig form) → DER `SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279 §2.2.3). */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw clientError('malformed_signature', 'A raw ECDSA signature has an even length')
  const half = raw.length / 2
  const body = Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))])
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body])
}

/** DER `SEQUENCE { r, s }` → raw r‖s with each half `size` bytes. */
export function ecdsaDerToRaw(der: Uint8Array, size = 32): Buffer {
  const bad = (): never => {
    throw clientError('malformed_signature', 'Malformed DER ECDSA signature')
  }
  let pos = 0
  const readLength = (): number => {
    const first = der[pos++] ?? bad()
    if (first < 0x80) return first
    let len = 0
    for (let i = 0; i < (first & 0x7f); i++) len = (len << 8) | (der[pos++] ?? bad())
    return len
  }
  if (der[pos++] !== 0x30) bad()
  readLength()
  const parts: Buffer[] = []
  for (let i = 0; i < 2; i++) {
    if (der[pos++] !== 0x02) bad()
    const len = readLength()
    let value = Buffer.from(der.subarray(pos, pos + len))
    pos += len
    while (value.length > size && value[0] === 0) value = value.subarray(1)
    if (value.length > size) bad()
    parts.push(Buffer.concat([Buffer.alloc(size - value.length), value]))
  }
  return Buffer.concat(parts)
}

// --- ECDSA P-256 over a pre-computed digest (software token): Node's crypto always hashes its input. ---

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n

type Jacobian = readonly [bigint, bigint, bigint]
const INFINITY: Jacobian = [0n, 1n, 0n]

const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n
  let b = mod(base, m)
  let e = exp
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m
    b = (b * b) % m
    e >>= 1n
  }
  return result
}

const modInv = (a: bigint, m: bigint): bigint => modPow(a, m - 2n, m)

/** Point doubling in Jacobian coordinates for a = −3. */
function double([x, y, z]: Jacobian): Jacobian {
  if (z === 0n || y === 0n) return INFINITY
  const delta = (z * z) % P
  const gamma = (y * y) % P
  const beta = (x * gamma) % P
  const alpha = mod(3n * (x - delta) * (x + delta), P)
  const x3 = mod(alpha * alpha - 8n * beta, P)
  const z3 = mod((y + z) ** 2n - gamma - delta, P)
  const y3 = mod(alpha * (4n * beta - x3) - 8n * gamma * gamma, P)
  return [x3, y3, z3]
}

function add(p1: Jacobian, p2: Jacobian): Jacobian {
  if (p1[2] === 0n) return p2
  if (p2[2] === 0n) return p1
  const [x1, y1, z1] = p1
  const [x2, y2, z2] = p2
  const z1z1 = (z1 * z1) % P
  const z2z2 = (z2 * z2) % P
  const u1 = (x1 * z2z2) % P
  const u2 = (x2 * z1z1) % P
  const s1 = (y1 * z2 * z2z2) % P
  const s2 = (y2 * z1 * z1z1) % P
  if (u1 === u2) return s1 === s2 ? double(p1) : INFINITY
  const h = mod(u2 - u1, P)
  const i = (4n * h * h) % P
  const j = (h * i) % P
  const r = mod(2n * (s2 - s1), P)
  const v = (u1 * i) % P
  const x3 = mod(r * r - j - 2n * v, P)
  const y3 = mod(r * (v - x3) - 2n * s1 * j, P)
  const z3 = mod(((z1 + z2) ** 2n - z1z1 - z2z2) * h, P)
  return [x3, y3, z3]
}

/** k·G with a Montgomery ladder (same operation sequence for every bit). */
function multiplyG(k: bigint): bigint {
  let r0: Jacobian = INFINITY
  let r1: Jacobian = [GX, GY, 1n]
  for (let bit = 255; bit >= 0; bit--) {
    if ((k >> BigInt(bit)) & 1n) {
      r0 = add(r0, r1)
      r1 = double(r1)
    } else {
      r1 = add(r0, r1)
      r0 = double(r0)
    }
  }
  const zInv = modInv(r0[2], P)
  return (r0[0] * zInv * zInv) % P
}

const toBig = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`))
const to32 = (value: bigint): Buffer => Buffer.from(value.toString(16).padStart(64, '0'), 'hex')

/** bits2int (RFC 6979 §2.3.2): the leftmost 256 bits of the digest. */
function bits2int(digest: Uint8Array): bigint {
  return toBig(digest.length > 32 ? digest.subarray(0, 32) : digest)
}

/** ECDSA P-256 signature of a pre-computed digest; returns raw r‖s (64 bytes). */
export function ecdsaP256SignDigest(privateScalar: Uint8Array, digest: Uint8Array): Buffer {
  const d = toBig(privateScalar)
  const e = bits2int(digest)
  const h1 = to32(mod(e, N))
  const x = to32(d)
  const extra = randomBytes(32)
  // RFC 6979 §3.2 HMAC-DRBG, with §3.6 additional data for fault resistance.
  let v: Buffer = Buffer.alloc(32, 0x01)
  let key: Buffer = Buffer.alloc(32, 0x00)
  const hmac = (k: Buffer, ...parts: Buffer[]): Buffer => {
    const mac = createHmac('sha256', k)
    for (const part of parts) mac.update(part)
    return mac.digest()
  }
  key = hmac(key, v, Buffer.from([0x00]), x, h1, extra)
  v = hmac(key, v)
  key = hmac(key, v, Buffer.from([0x01]), x, h1, extra)
  v = hmac(key, v)
  for (;;) {
    v = hmac(key, v)
    const k = toBig(v)
    if (k > 0n && k < N) {
      const r = mod(multiplyG(k), N)
      const s = mod(modInv(k, N) * (e + r * d), N)
      if (r !== 0n && s !== 0n) return Buffer.concat([to32(r), to32(s)])
    }
    key = hmac(key, v, Buffer.from([0x00]))
    v = hmac(key, v)
  }
}
