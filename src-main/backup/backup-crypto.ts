import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { SecurityServerError, parseJson } from '../platform'

/**
 * The encryption of a backup file: a passphrase-derived key and an online authenticated-encryption stream, in the
 * shape of age (age-encryption.org/v1) with only what Node's OpenSSL has built in:
 *
 *   file    = "GATEHOUSE-BACKUP 1\n" header-json "\n" header-mac(32) chunk*
 *   fileKey = scrypt(NFC(passphrase), salt, N, r, p)            (memory-hard; parameters in the header, bounded)
 *   mac     = HMAC-SHA256(HKDF(fileKey, "", "gatehouse-backup header"), both header lines)
 *   payload = HKDF(fileKey, nonce, "gatehouse-backup payload")  (nonce: 16 random bytes per file)
 *   chunk i = AES-256-GCM(payload, nonce = i as 11 bytes big-endian ‖ last?1:0, 64 KiB of plaintext) ‖ tag(16)
 *
 * The chunking is the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption and
 * its Nonce-Reuse Misuse-Resistance", CRYPTO 2015): every chunk is authenticated on its own, its position is in its
 * nonce and the last one is flagged, so a reordered, altered or truncated file is refused, and the file decrypts in
 * constant memory. The header MAC tells a wrong passphrase (or an altered header) from a damaged body before any
 * plaintext is written. A scheduled backup keeps `fileKey` and its salt (never the passphrase) so the server can
 * encrypt without anyone typing it; each file still has its own payload key through its nonce.
 */
export const BACKUP_MAGIC = 'GATEHOUSE-BACKUP 1\n'
const CHUNK = 64 * 1024
const TAG = 16
const SEALED_CHUNK = CHUNK + TAG
const MAX_HEADER = 4096

export interface ScryptParams {
  N: number
  r: number
  p: number
}

/** scrypt with N = 2^17, r = 8 (128 MiB, well above RFC 7914's interactive example), about a second on one core. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 }

export interface BackupHeader {
  kdf: { name: 'scrypt'; salt: string } & ScryptParams
  aead: 'AES-256-GCM-STREAM-64K'
  nonce: string
  createdAt: string
}

/** The key a passphrase gives with one salt: what the scheduled backups keep instead of the passphrase. */
export interface DerivedKey {
  kdf: BackupHeader['kdf']
  key: Buffer
}

const invalid = (detail: string, message: string, cause?: unknown): SecurityServerError =>
  new SecurityServerError('backup_invalid', message, { detail, clientFault: true, ...(cause === undefined ? {} : { cause }) })

function scryptAsync(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), salt, 32, { ...params, maxmem: 256 * params.N * params.r + 16 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

/** Derives the file key from a passphrase, with a new salt unless `kdf` names one (a header read back). */
export async function deriveKey(passphrase: string, kdf?: BackupHeader['kdf'], params: ScryptParams = DEFAULT_SCRYPT): Promise<DerivedKey> {
  const chosen = kdf ?? { name: 'scrypt' as const, salt: randomBytes(16).toString('base64'), ...params }
  return { kdf: chosen, key: await scryptAsync(passphrase, Buffer.from(chosen.salt, 'base64'), chosen) }
}

const hkdf = (key: Buffer, salt: Buffer, info: string): Buffer => Buffer.from(hkdfSync('sha256', key, salt, Buffer.from(info, 'utf8'), 32))

function headerBytes(header: BackupHeader): Buffer {
  return Buffer.from(`${BACKUP_MAGIC}${JSON.stringify(header)}\n`, 'utf8')
}

function headerMac(fileKey: Buffer, bytes: Buffer): Buffer {
  return createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'gatehouse-backup header')).update(bytes).digest()
}

function chunkNonce(index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12)
  nonce.writeUIntBE(index, 5, 6)
  nonce[11] = last ? 1 : 0
  return nonce
}

/** The header and MAC to write first, and a Transform that encrypts what follows. */
export function encryptingStream(derived: DerivedKey, createdAt: Date): { prefix: Buffer; stream: Transform } {
  const header: BackupHeader = { kdf: derived.kdf, aead: 'AES-256-GCM-STREAM-64K', nonce: randomBytes(16).toString('base64'), createdAt: createdAt.toISOString() }
  const bytes = headerBytes(header)
  const prefix = Buffer.concat([bytes, headerMac(derived.key, bytes)])
  const payloadKey = hkdf(derived.key, Buffer.from(header.nonce, 'base64'), 'gatehouse-backup payload')
  let buffered: Buffer = Buffer.alloc(0)
  let index = 0
  const seal = (plain: Buffer, last: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', payloadKey, chunkNonce(index++, last))
    return Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()])
  }
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      // A full chunk is sealed only once more data follows: the last chunk, flagged, may be full too.
      while (buffered.length > CHUNK) {
        this.push(seal(buffered.subarray(0, CHUNK), false))
        buffered = buffered.subarray(CHUNK)
      }
      done()
    },
    flush(done: TransformCallback) {
      this.push(seal(buffered, true))
      done()
    },
  })
  return { prefix, stream }
}

/** Parses the clear header at the start of `bytes`: the header, where the MAC ends, or a refusal. */
export function parseHeader(bytes: Buffer): { header: BackupHeader; headerBytes: Buffer; mac: Buffer; bodyOffset: number } {
  const magic = Buffer.from(BACKUP_MAGIC, 'utf8')
  if (bytes.length < magic.length || !bytes.subarray(0, magic.length).equals(magic)) throw invalid('not-a-backup', 'This is not a Gatehouse backup file')
  const end = bytes.indexOf(0x0a, magic.length)
  if (end < 0 || end > MAX_HEADER) throw invalid('corrupted', 'The backup header is damaged')
  let header: BackupHeader
  try {
    header = parseJson(bytes.subarray(magic.length, end).toString('utf8'), { maxLength: MAX_HEADER, maxDepth: 3 }, 'backup_invalid', 'The backup header') as BackupHeader
  } catch (cause) {
    throw invalid('corrupted', 'The backup header is damaged', cause)
  }
  const { kdf } = header
  const bounded = kdf?.name === 'scrypt' && Number.isInteger(kdf.N) && kdf.N >= 2 ** 14 && kdf.N <= 2 ** 20 && (kdf.N & (kdf.N - 1)) === 0
    && Number.isInteger(kdf.r) && kdf.r >= 1 && kdf.r <= 32 && Number.isInteger(kdf.p) && kdf.p >= 1 && kdf.p <= 4 && typeof kdf.salt === 'string'
  if (!bounded || header.aead !== 'AES-256-GCM-STREAM-64K' || typeof header.nonce !== 'string') {
    throw invalid('unsupported', 'The backup uses an encryption this Gatehouse does not know (or limits it refuses)')
  }
  const macEnd = end + 1 + 32
  if (bytes.length < macEnd) throw invalid('truncated', 'The backup file ends inside its header')
  return { header, headerBytes: bytes.subarray(0, end + 1), mac: bytes.subarray(end + 1, macEnd), bodyOffset: macEnd }
}

/** Checks the header MAC: a mismatch means a wrong passphrase (or an altered header, which cannot be told apart). */
export function checkHeaderMac(fileKey: Buffer, parsed: { headerBytes: Buffer; mac: Buffer }): void {
  const expected = headerMac(fileKey, parsed.headerBytes)
  if (!timingSafeEqual(expected, parsed.mac)) throw invalid('passphrase-incorrect', 'The passphrase is not the one this backup was made with')
}

/** A Transform that decrypts the body (after the header), refusing an altered, reordered or truncated chunk. */
export function decryptingStream(fileKey: Buffer, header: BackupHeader): Transform {
  const payloadKey = hkdf(fileKey, Buffer.from(header.nonce, 'base64'), 'gatehouse-backup payload')
  let buffered: Buffer = Buffer.alloc(0)
  let index = 0
  const open = (sealed: Buffer, last: boolean, at: number): Buffer | undefined => {
    if (sealed.length < TAG) return undefined
    const decipher = createDecipheriv('aes-256-gcm', payloadKey, chunkNonce(at, last))
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG))
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG)), decipher.final()])
    } catch {
      return undefined
    }
  }
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
      while (buffered.length > SEALED_CHUNK) {
        const plain = open(buffered.subarray(0, SEALED_CHUNK), false, index)
        if (plain === undefined) return done(invalid('corrupted', `The backup is damaged (chunk ${index} does not authenticate)`))
        index++
        buffered = buffered.subarray(SEALED_CHUNK)
        this.push(plain)
      }
      done()
    },
    flush(done: TransformCallback) {
      const plain = open(buffered, true, index)
      if (plain !== undefined) {
        this.push(plain)
        return done()
      }
      // A whole chunk that authenticates as not the last: the file was cut after it.
      const cut = buffered.length === 0 || open(buffered, false, index) !== undefined
      done(cut ? invalid('truncated', 'The backup file is incomplete (it was cut short)') : invalid('corrupted', `The backup is damaged (chunk ${index} does not authenticate)`))
    },
  })
}
