import { hashOf, SecurityServerError } from '../platform'
import {
  MESSAGE_URI, SIG_HASH_CHAIN_URI, buildHashChainDocuments, buildSignatureBytes, partDigest, signingMaterial, type DigestAlgorithm, type HashChainInput,
  type HashChainPart, type SignatureAlgorithm, type SigningMaterial, type SignRequest,
} from '../signature'
import type { SigningContext } from './signer'
import type { SignAlgorithm } from './token-driver'

/**
 * Batch signing (issue 4 item 6, issue 15 §4; xroad-protocols.md §4.4–4.6): the requests for one key and certificate
 * that arrive within one turn of the event loop are coalesced into one token signature over the hash-chain result of a
 * hash tree built with X-Road's `HashChainBuilder` form; each message gets the shared signature document, the shared
 * result and its own chain. The turn ends at `setImmediate` (after the poll phase has delivered every request that was
 * ready), so no timer adds latency at low load. At most one token signature per key is in flight; requests arriving
 * meanwhile form the next batch (up to `maxBatchSize`), so under a slow token batches grow with the load. A lone
 * message with only `/message.xml` gets a direct signature, as X-Road's signer gives it.
 */

/**
 * A part to sign: its bytes, or its digest taken elsewhere (a body hashed while it streamed in, never held whole):
 * the hash-chain step is the same digest either way (xroad-protocols.md §4.4–4.5).
 */
export type MessagePartToSign =
  | { readonly name: string; readonly bytes: Uint8Array }
  | { readonly name: string; readonly digest: Uint8Array; readonly digestAlgorithm: DigestAlgorithm }

export interface SignedMessage {
  readonly signatureXml: Buffer
  /** With a hash-chain signature: the shared `/sig-hashchainresult.xml`. */
  readonly hashChainResult?: Buffer
  /** With a hash-chain signature: this message's `/sig-hashchain.xml`. */
  readonly hashChain?: Buffer
}

export interface BatchSignerOptions {
  /** Most messages under one token signature (default 256). */
  readonly maxBatchSize?: number
  /** Reference and hash-chain digest (X-Road default SHA-512). */
  readonly digestAlgorithm?: DigestAlgorithm
}

export interface BatchSignerStats {
  /** Token signatures made. */
  readonly signatures: number
  /** Messages signed. */
  readonly messages: number
  readonly largestBatch: number
}

const XML_SIGNATURE_ALGORITHMS: Record<SignAlgorithm, SignatureAlgorithm> = {
  'rsa-pkcs1-sha256': 'RSA-SHA256', 'rsa-pkcs1-sha384': 'RSA-SHA384', 'rsa-pkcs1-sha512': 'RSA-SHA512',
  'rsa-pss-sha256': 'RSA-PSS-SHA256', 'rsa-pss-sha384': 'RSA-PSS-SHA384', 'rsa-pss-sha512': 'RSA-PSS-SHA512',
  'ecdsa-sha256': 'ECDSA-SHA256', 'ecdsa-sha384': 'ECDSA-SHA384', 'ecdsa-sha512': 'ECDSA-SHA512',
}

interface Pending {
  readonly parts: readonly MessagePartToSign[]
  readonly context: SigningContext
  resolve(value: SignedMessage): void
  reject(error: unknown): void
}

interface ContextSigning {
  readonly material: SigningMaterial
  readonly signatureAlgorithm: SignatureAlgorithm
  readonly sign: (request: SignRequest) => Promise<Buffer>
}

interface KeyQueue {
  readonly waiting: Pending[]
  /** A token signature of this key is in flight. */
  busy: boolean
  /** A flush at the end of this turn of the event loop is scheduled. */
  scheduled: boolean
}

export class BatchSigner {
  private readonly queues = new Map<string, KeyQueue>()
  private readonly queueKeys = new WeakMap<SigningContext, string>()
  private readonly maxBatchSize: number
  private readonly digestAlgorithm: DigestAlgorithm
  private counters = { signatures: 0, messages: 0, largestBatch: 0 }

  constructor(options: BatchSignerOptions = {}) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 256)
    this.digestAlgorithm = options.digestAlgorithm ?? 'SHA-512'
  }

  get stats(): BatchSignerStats {
    return { ...this.counters }
  }

  /** Signs one message's parts with `context` (from `Signer.getSigningContext`), batched with concurrent requests. */
  sign(context: SigningContext, parts: readonly MessagePartToSign[]): Promise<SignedMessage> {
    if (parts.length === 0) return Promise.reject(new SecurityServerError('cannot_create_signature', 'Nothing to sign'))
    if (new Set(parts.map((p) => p.name)).size !== parts.length) return Promise.reject(new SecurityServerError('cannot_create_signature', 'Signed part names must be unique'))
    // One batch per key and signing certificate: the signature document names the certificate.
    let hashedKey = this.queueKeys.get(context)
    if (hashedKey === undefined) {
      hashedKey = `${context.keyId}:${hashOf('sha256', context.certChain[0] ?? Buffer.alloc(0), 'hex')}`
      // The signer hands out the same context message after message: its key is hashed once.
      this.queueKeys.set(context, hashedKey)
    }
    const queueKey = hashedKey
    return new Promise<SignedMessage>((resolve, reject) => {
      let queue = this.queues.get(queueKey)
      if (queue === undefined) {
        queue = { waiting: [], busy: false, scheduled: false }
        this.queues.set(queueKey, queue)
      }
      queue.waiting.push({ parts, context, resolve, reject })
      this.schedule(queueKey, queue)
    })
  }

  private schedule(queueKey: string, queue: KeyQueue): void {
    // A full batch goes at once; otherwise whatever else arrives in this turn of the event loop joins it. While a
    // signature is in flight the waiting requests accumulate and go when it completes.
    if (queue.busy) return
    if (queue.waiting.length >= this.maxBatchSize) {
      this.flush(queueKey, queue)
      return
    }
    if (queue.scheduled) return
    queue.scheduled = true
    setImmediate(() => {
      queue.scheduled = false
      this.flush(queueKey, queue)
      if (!queue.busy && queue.waiting.length === 0) this.queues.delete(queueKey)
    })
  }

  private flush(queueKey: string, queue: KeyQueue): void {
    if (queue.busy || queue.waiting.length === 0) return
    const batch = queue.waiting.splice(0, this.maxBatchSize)
    queue.busy = true
    void this.signBatch(batch).finally(() => {
      queue.busy = false
      if (queue.waiting.length === 0) {
        if (!queue.scheduled) this.queues.delete(queueKey)
        return
      }
      // Those waiting already waited for a whole token signature: sign them at once.
      this.flush(queueKey, queue)
    })
  }

  private async signBatch(batch: Pending[]): Promise<void> {
    const context = batch[batch.length - 1]!.context
    try {
      // Inside the try: a context whose certificate cannot be read fails its batch rather than leaving it waiting.
      const { material, signatureAlgorithm, sign } = this.signingOf(context)
      const digestAlgorithm = this.digestAlgorithm
      const first = batch[0]!
      const only = batch.length === 1 && first.parts.length === 1 ? first.parts[0]! : undefined
      if (only !== undefined && only.name === MESSAGE_URI && 'bytes' in only) {
        const signatureXml = await buildSignatureBytes({ material, signatureAlgorithm, digestAlgorithm, sign, parts: [{ uri: MESSAGE_URI, data: only.bytes }] })
        this.count(1)
        first.resolve({ signatureXml })
        return
      }
      // xroad-protocols.md §4.5: leaves are the messages (a step over their parts when there are several).
      const inputs = new Array<HashChainInput>(batch.length)
      for (let i = 0; i < batch.length; i++) {
        const parts = batch[i]!.parts
        const leaves = new Array<HashChainPart>(parts.length)
        for (let p = 0; p < parts.length; p++) leaves[p] = { uri: parts[p]!.name, digest: this.leafDigest(parts[p]!) }
        inputs[i] = { parts: leaves }
      }
      const chains = buildHashChainDocuments(inputs, digestAlgorithm, SIG_HASH_CHAIN_URI)
      const hashChainResult = chains.result
      const signatureXml = await buildSignatureBytes({ material, signatureAlgorithm, digestAlgorithm, sign, hashChainResult })
      this.count(batch.length)
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve({ signatureXml, hashChainResult, hashChain: chains.chains[i]! })
    } catch (error) {
      for (const p of batch) p.reject(error)
    }
  }

  /**
   * What every signature of a context uses, made once per context (the signer hands out one context while its
   * certificate and OCSP responses are unchanged, a new one when they change): the certificates and OCSP responses as
   * the signature document holds them, the XML signature algorithm and the token signature under X-Road's error prefix.
   */
  private readonly signings = new WeakMap<SigningContext, ContextSigning>()

  private signingOf(context: SigningContext): ContextSigning {
    let signing = this.signings.get(context)
    if (signing === undefined) {
      const [signingCert, ...intermediates] = context.certChain
      if (signingCert === undefined) throw new SecurityServerError('cannot_create_signature', 'The signing context has no certificate')
      signing = {
        material: signingMaterial({ signingCert, intermediates, ocspResponses: context.ocspResponses }, this.digestAlgorithm),
        signatureAlgorithm: XML_SIGNATURE_ALGORITHMS[context.algorithm],
        sign: ({ digest: hash, dataToSign }) => context.sign(hash, dataToSign).catch((error: unknown) => {
          throw signingFailed(error)
        }),
      }
      this.signings.set(context, signing)
    }
    return signing
  }

  /** A part's digest; one taken elsewhere is used as it is (hash-chain building never modifies a digest). */
  private leafDigest(part: MessagePartToSign): Uint8Array {
    if ('bytes' in part) return partDigest(this.digestAlgorithm, part.bytes)
    if (part.digestAlgorithm !== this.digestAlgorithm) {
      throw new SecurityServerError('cannot_create_signature', `Part ${part.name} has a ${part.digestAlgorithm} digest; signatures use ${this.digestAlgorithm}`)
    }
    return part.digest
  }

  private count(messages: number): void {
    this.counters = {
      signatures: this.counters.signatures + 1, messages: this.counters.messages + messages,
      largestBatch: Math.max(this.counters.largestBatch, messages),
    }
  }
}

/**
 * A failed token signature as X-Road's `SignerSigningKey.calculateSignature` reports it: the signer's error under the
 * `cannot_create_signature` prefix (`translateWithPrefix(X_CANNOT_CREATE_SIGNATURE, e)`).
 */
function signingFailed(error: unknown): SecurityServerError {
  if (error instanceof SecurityServerError) return error.withPrefix('cannot_create_signature')
  return new SecurityServerError('cannot_create_signature', `Token signature failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
}
