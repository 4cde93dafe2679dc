import { DEFAULT_XML_LIMITS, parseXml, SecurityServerError } from '../platform'
import type { ErrorCode } from '@shared/error-codes'
import {
  base64Direct, base64Of, canonicalize, digest, DIGEST_URIS, digestAlgorithmFromUri, DS_NS, HASHCHAIN_NS, isC14nUri, partDigest,
  type DigestAlgorithm,
} from './xml-support'
import { readLexical, type LexElement, type LexicalLimits } from './xml-lexical'

/**
 * Hash chains (namespace `http://cyber.ee/hashchain`, schema `hashchain.xsd`): batch hashing of several messages
 * or records under one signature or time-stamp, built and verified exactly as X-Road's `HashChainBuilder` and
 * `HashChainVerifier` (xroad-protocols.md §4.5, §10 item 2).
 */

export interface HashChainPart {
  /** Data URI, e.g. `/message.xml`, `/attachment1`, `/META-INF/signatures.xml`. */
  uri: string
  digest: Uint8Array
}

export interface HashChainInput {
  parts: HashChainPart[]
}

export interface HashChains {
  /** The hash-chain-result document (`HashChainResult`, URI `{hashChainFile}#STEP0`). */
  resultXml: string
  /** One hash-chain document per input, in input order. */
  chains: string[]
  /** The digest of the top step (the HashChainResult's DigestValue). */
  topDigest: Buffer
}

const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

/** Bytes of a DER tag and definite length (X.690 §8.1.3: short form below 128, else the minimal long form). */
function derHeaderSize(length: number): number {
  return length < 0x80 ? 2 : length < 0x100 ? 3 : length < 0x1_0000 ? 4 : length < 0x100_0000 ? 5 : 6
}

function writeDerHeader(out: Buffer, at: number, tag: number, length: number): number {
  let o = at
  out[o++] = tag
  if (length < 0x80) {
    out[o++] = length
    return o
  }
  const count = derHeaderSize(length) - 2
  out[o++] = 0x80 | count
  for (let i = count - 1; i >= 0; i--) out[o++] = (length >>> (8 * i)) & 0xff
  return o
}

/** UTF-8 of the digest method URIs X-Road uses, encoded once. */
const KNOWN_METHOD_BYTES = new Map(Object.values(DIGEST_URIS).map((uri) => [uri, Buffer.from(uri, 'utf8')]))

/**
 * DER of SEQUENCE OF SingleDigest{ digest OCTET STRING, digestMethod UTF8String, transforms SEQUENCE {} }
 * (xroad-protocols.md §4.5 "Step digest") for `count` digests, laid out in one buffer of the exact size.
 */
function digestList(count: number, digestAt: (i: number) => Uint8Array, methodAt: (i: number) => Uint8Array): Buffer {
  const singleLength = (i: number): number => {
    const digestLength = digestAt(i).byteLength
    const methodLength = methodAt(i).byteLength
    return derHeaderSize(digestLength) + digestLength + derHeaderSize(methodLength) + methodLength + 2
  }
  let content = 0
  for (let i = 0; i < count; i++) {
    const single = singleLength(i)
    content += derHeaderSize(single) + single
  }
  const out = Buffer.allocUnsafe(derHeaderSize(content) + content)
  let o = writeDerHeader(out, 0, 0x30, content)
  for (let i = 0; i < count; i++) {
    const item = digestAt(i)
    const method = methodAt(i)
    o = writeDerHeader(out, o, 0x30, singleLength(i))
    o = writeDerHeader(out, o, 0x04, item.byteLength)
    out.set(item, o)
    o += item.byteLength
    o = writeDerHeader(out, o, 0x0c, method.byteLength)
    out.set(method, o)
    o += method.byteLength
    out[o++] = 0x30
    out[o++] = 0x00
  }
  return out
}

/** X-Road `DigestList.concatDigests`: {@link digestList} of digests that each name their method. */
export function concatDigests(items: ReadonlyArray<{ digest: Uint8Array; methodUri: string }>): Buffer {
  const methods = items.map((item) => KNOWN_METHOD_BYTES.get(item.methodUri) ?? Buffer.from(item.methodUri, 'utf8'))
  return digestList(items.length, (i) => items[i]!.digest, (i) => methods[i]!)
}

/** Step digest H(DER(SEQUENCE OF SingleDigest)) over digests that all use `algorithm` (no item object per digest). */
export function stepDigest(algorithm: DigestAlgorithm, digests: readonly Uint8Array[]): Buffer {
  const method = KNOWN_METHOD_BYTES.get(DIGEST_URIS[algorithm])!
  return digest(algorithm, digestList(digests.length, (i) => digests[i]!, () => method))
}

/** Base64 of a digest without copying it (a Buffer's own text; a plain Uint8Array viewed as a Buffer). */
function b64(d: Uint8Array): string {
  return (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength)).toString('base64')
}

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1')

/** The fixed text of hash-chain documents, as bytes (per digest algorithm where it names one). */
const CHAIN_HEADS = new Map((Object.entries(DIGEST_URIS) as Array<[DigestAlgorithm, string]>).map(([algorithm, uri]) => [algorithm,
  ascii(`${XML_DECL}<ns2:HashChain xmlns="${DS_NS}" xmlns:ns2="${HASHCHAIN_NS}">\n    <ns2:DefaultDigestMethod Algorithm="${uri}"/>\n`)]))
const CHAIN_END = ascii('</ns2:HashChain>\n')
const STEP_OPEN = ascii('    <ns2:HashStep id="STEP')
const STEP_OPEN_END = ascii('">\n')
const STEP_END = ascii('    </ns2:HashStep>\n')
const STEP_REF = ascii('        <ns2:StepRef URI="#STEP')
const STEP_REF_END = ascii('"/>\n')
const HASH_VALUE = ascii('        <ns2:HashValue>\n            <DigestValue>')
const HASH_VALUE_END = ascii('</DigestValue>\n        </ns2:HashValue>\n')
const DATA_REF = ascii('        <ns2:DataRef URI="')
const DATA_REF_VALUE = ascii('">\n            <DigestValue>')
const DATA_REF_END = ascii('</DigestValue>\n        </ns2:DataRef>\n')

/**
 * One document's pieces (fixed bytes, and text: ASCII numbers and base64, or URIs), collected and then written into
 * one buffer of the exact size: no joined or concatenated string, nothing to flatten or encode twice. Shared by every
 * build (each takes its documents before it returns).
 */
class DocumentWriter {
  /** The pieces of the document, `count` of them (the array keeps its length between documents: no regrowing). */
  private readonly pieces: Array<Uint8Array | string> = []
  private count = 0
  private size = 0

  bytes(piece: Uint8Array): void {
    this.pieces[this.count++] = piece
    this.size += piece.length
  }

  text(piece: string): void {
    this.pieces[this.count++] = piece
    this.size += Buffer.byteLength(piece, 'utf8')
  }

  /** Starts a document (dropping whatever a build that failed midway left). */
  start(): void {
    this.count = 0
    this.size = 0
  }

  take(): Buffer {
    const out = Buffer.allocUnsafe(this.size)
    let at = 0
    for (let i = 0; i < this.count; i++) {
      const piece = this.pieces[i]!
      if (typeof piece === 'string') at += out.write(piece, at, 'utf8')
      else {
        out.set(piece, at)
        at += piece.length
      }
    }
    this.count = 0
    this.size = 0
    return out
  }
}

const writer = new DocumentWriter()

function writeStepRef(index: number): void {
  writer.bytes(STEP_REF)
  writer.text(String(index))
  writer.bytes(STEP_REF_END)
}

function writeHashValue(digestText: string): void {
  writer.bytes(HASH_VALUE)
  writer.text(digestText)
  writer.bytes(HASH_VALUE_END)
}

function writeDataRef(uri: string, digestText: string): void {
  writer.bytes(DATA_REF)
  writer.text(uri)
  writer.bytes(DATA_REF_VALUE)
  writer.text(digestText)
  writer.bytes(DATA_REF_END)
}

export function renderHashChainResult(algorithm: DigestAlgorithm, uri: string, top: Uint8Array): string {
  return `${XML_DECL}<ns2:HashChainResult URI="${uri}" xmlns="${DS_NS}" xmlns:ns2="${HASHCHAIN_NS}">\n` +
    `    <DigestMethod Algorithm="${DIGEST_URIS[algorithm]}"/>\n` +
    `    <DigestValue>${b64(top)}</DigestValue>\n` +
    '</ns2:HashChainResult>\n'
}

/** {@link HashChains} as the documents' UTF-8 bytes. */
export interface HashChainDocuments {
  result: Buffer
  chains: Buffer[]
  topDigest: Buffer
}

/**
 * Builds the hash chains for a batch (X-Road `HashChainBuilder`): the inputs are the leaves of a binary Merkle
 * tree kept in array form (children of i at 2i+1, 2i+2; missing right subtrees promote the left value). Each
 * input's chain walks root→leaf with the sibling as `HashValue` and the own side as `StepRef`/`DataRef` placed by
 * direction; inputs with several parts end with a step of `DataRef`s (xroad-protocols.md §4.5).
 */
export function buildHashChains(
  inputs: HashChainInput[],
  digestAlgorithm: DigestAlgorithm = 'SHA-512',
  hashChainFile = '/sig-hashchain.xml',
): HashChains {
  const built = buildHashChainDocuments(inputs, digestAlgorithm, hashChainFile)
  return { resultXml: built.result.toString('utf8'), chains: built.chains.map((chain) => chain.toString('utf8')), topDigest: built.topDigest }
}

/**
 * {@link buildHashChains} as bytes, what a signer hands on: each document written into one buffer, a tree node's
 * base64 made once for every chain that shows it.
 */
export function buildHashChainDocuments(
  inputs: HashChainInput[],
  digestAlgorithm: DigestAlgorithm = 'SHA-512',
  hashChainFile = '/sig-hashchain.xml',
): HashChainDocuments {
  const tree = new HashChainTree(inputs, digestAlgorithm, hashChainFile)
  const chains = new Array<Buffer>(tree.count)
  for (let i = 0; i < tree.count; i++) chains[i] = tree.chain(i)
  return { result: tree.result, chains, topDigest: tree.topDigest }
}

/**
 * The tree of {@link buildHashChainDocuments} with its result document, each input's chain written when asked for:
 * a batch time-stamp of 10 000 records (X-Road's `timestamp-records-limit`) has about 40 MB of chains, which its
 * stamper stores a slice at a time instead of holding them all.
 */
export class HashChainTree {
  readonly count: number
  readonly result: Buffer
  readonly topDigest: Buffer
  private readonly internal: number
  private readonly tree: Array<Uint8Array | undefined>
  /** Base64 of tree nodes, made when a chain first shows the node. */
  private readonly texts: Array<string | undefined>
  // The siblings on a leaf's path (tree indices) and whether the path runs through the left child, leaf first.
  private readonly siblings: number[]
  private readonly ownLeft: boolean[]

  constructor(private readonly inputs: readonly HashChainInput[], private readonly digestAlgorithm: DigestAlgorithm = 'SHA-512', hashChainFile = '/sig-hashchain.xml') {
    const count = inputs.length
    if (count === 0) throw new SecurityServerError('internal_error', 'A hash chain needs at least one input')
    for (let i = 0; i < count; i++) {
      if (inputs[i]!.parts.length === 0) throw new SecurityServerError('internal_error', 'A hash chain input needs at least one part')
    }
    const height = Math.ceil(Math.log2(count))
    const internal = (1 << height) - 1
    const tree = new Array<Uint8Array | undefined>(internal + (1 << height)).fill(undefined)
    for (let i = 0; i < count; i++) {
      const parts = inputs[i]!.parts
      if (parts.length === 1) tree[internal + i] = parts[0]!.digest
      else {
        const digests = new Array<Uint8Array>(parts.length)
        for (let p = 0; p < parts.length; p++) digests[p] = parts[p]!.digest
        tree[internal + i] = stepDigest(digestAlgorithm, digests)
      }
    }
    for (let i = internal - 1; i >= 0; i--) {
      const left = tree[2 * i + 1]
      const right = tree[2 * i + 2]
      tree[i] = left !== undefined && right !== undefined ? stepDigest(digestAlgorithm, [left, right]) : left
    }
    const leaf0 = tree[internal]!
    // A step digest in every case (a lone input's several parts, or the root over two subtrees): never an input's own bytes.
    const top = count === 1 && inputs[0]!.parts.length === 1
      ? stepDigest(digestAlgorithm, [leaf0])
      : (count === 1 ? leaf0 : tree[0]!) as Buffer
    this.count = count
    this.internal = internal
    this.tree = tree
    this.texts = new Array<string | undefined>(tree.length).fill(undefined)
    this.siblings = new Array<number>(height)
    this.ownLeft = new Array<boolean>(height)
    this.topDigest = top
    this.result = Buffer.from(renderHashChainResult(digestAlgorithm, `${hashChainFile}#STEP0`, top), 'utf8')
  }

  /** The hash chain document of input `index`, as its UTF-8 bytes. */
  chain(index: number): Buffer {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) throw new SecurityServerError('internal_error', `No hash chain input ${index}`)
    const { tree, siblings, ownLeft } = this
    const parts = this.inputs[index]!.parts
    const leaf = this.internal + index
    let levels = 0
    for (let node = leaf; node > 0;) {
      const parent = (node - 1) >> 1
      const isLeft = node === 2 * parent + 1
      const sibling = isLeft ? node + 1 : node - 1
      if (tree[sibling] !== undefined) {
        siblings[levels] = sibling
        ownLeft[levels] = isLeft
        levels++
      }
      node = parent
    }
    writer.start()
    writer.bytes(CHAIN_HEADS.get(this.digestAlgorithm)!)
    // Steps from the root down: step d holds the level `levels - 1 - d` of the path; the own side first when it is left.
    for (let depth = 0; depth < levels; depth++) {
      const level = levels - 1 - depth
      writer.bytes(STEP_OPEN)
      writer.text(String(depth))
      writer.bytes(STEP_OPEN_END)
      if (!ownLeft[level]) writeHashValue(this.textOf(siblings[level]!))
      if (depth === levels - 1 && parts.length === 1) writeDataRef(parts[0]!.uri, this.textOf(leaf))
      else writeStepRef(depth + 1)
      if (ownLeft[level]) writeHashValue(this.textOf(siblings[level]!))
      writer.bytes(STEP_END)
    }
    if (parts.length > 1 || levels === 0) {
      writer.bytes(STEP_OPEN)
      writer.text(String(levels))
      writer.bytes(STEP_OPEN_END)
      for (let p = 0; p < parts.length; p++) writeDataRef(parts[p]!.uri, parts.length === 1 ? this.textOf(leaf) : b64(parts[p]!.digest))
      writer.bytes(STEP_END)
    }
    writer.bytes(CHAIN_END)
    return writer.take()
  }

  private textOf(node: number): string {
    return this.texts[node] ?? (this.texts[node] = b64(this.tree[node]!))
  }
}

// ---- verification -------------------------------------------------------------------------------

/** An input that must be referenced: its data (hashed and compared with the DataRef), its digest, or null (resolve it). */
export type HashChainInputValue = { data: Uint8Array } | { digest: Uint8Array; algorithm: DigestAlgorithm } | null

/**
 * Bounds of one verification, applied while the documents are read and the steps resolved. The defaults leave room
 * for batches far larger than any signer or time-stamper makes (a batch of n records has chains of ⌈log2 n⌉ + 1 steps).
 */
export interface HashChainLimits {
  /** Bytes of one hash-chain or hash-chain-result document. */
  maxDocumentBytes: number
  /** Hash-chain files one verification may open. */
  maxChainFiles: number
  /** Hash steps in all opened chain files together. */
  maxSteps: number
  /** Values (HashValue, StepRef, DataRef) in one hash step. */
  maxValuesPerStep: number
  /** StepRef nesting from the result down to the last step. */
  maxDepth: number
  /** Transforms on one DataRef. */
  maxTransforms: number
  /** Distinct (transforms, digest method) digests of one URI's data; each is computed once. */
  maxDigestsPerUri: number
}

export const DEFAULT_HASH_CHAIN_LIMITS: HashChainLimits = {
  maxDocumentBytes: 1024 * 1024,
  maxChainFiles: 8,
  maxSteps: 4096,
  maxValuesPerStep: 1024,
  maxDepth: 64,
  maxTransforms: 4,
  maxDigestsPerUri: 2,
}

export interface HashChainVerification {
  /** URIs (without fragment) of other hash chain files and data, e.g. `/sig-hashchain.xml`; undefined = not available. */
  resolve: (uri: string) => Uint8Array | undefined
  /** Inputs that must all be referenced by the chain (X-Road `inputs`), keyed by URI. */
  inputs: Record<string, HashChainInputValue>
  /**
   * X-Road `HashChainReferenceResolver.shouldResolve`: false takes a DataRef's own digest unchecked and reports it in
   * `unresolved` (the ASiC verifier does this for entries a container does not hold). Absent: every DataRef that is
   * not a matching input digest is resolved, and one that cannot be is `invalid_reference` (X-Road `SignatureVerifier`).
   */
  shouldResolve?: (uri: string) => boolean
  limits?: Partial<HashChainLimits>
}

export interface HashChainVerificationResult {
  /** DataRef URIs left unresolved by `shouldResolve`, with the digest the chain claims (X-Road logs these). */
  unresolved: Array<{ uri: string; digest: Buffer }>
}

function hashChainError(code: ErrorCode, message: string, cause?: unknown): SecurityServerError {
  return new SecurityServerError(code, message, { clientFault: true, cause })
}

/** At most 100 characters of a URI or name from the input, for error messages. */
function shown(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value
}

export interface HashChainValue {
  kind: 'HashValue' | 'StepRef' | 'DataRef'
  uri?: string
  digestMethod?: string
  transforms?: string[]
  digest?: Buffer
}

export interface ParsedHashChain {
  defaultDigestMethod?: string
  steps: Map<string, HashChainValue[]>
}

function onlyElements(parent: LexElement, where: string): readonly LexElement[] {
  const elements = parent.childElements()
  if (elements === undefined) throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: unexpected text in ${where}`)
  return elements
}

function expect(el: LexElement, ns: string, name: string, where: string): void {
  if (el.namespaceURI !== ns || el.localName !== name) {
    throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: unexpected element '${shown(el.localName ?? '')}' in ${where}`)
  }
}

function algorithmAttr(el: LexElement): string {
  const alg = el.getAttribute('Algorithm')
  if (!alg) throw hashChainError('malformed_hash_chain', 'Parsing hash chain failed: DigestMethod lacks Algorithm')
  return alg
}

function parseDigestValue(el: LexElement): Buffer {
  const text = el.textContent ?? ''
  // Canonical base64 as written (the common case) passes both checks below; anything else is checked in order.
  const direct = base64Direct(text)
  if (direct !== undefined) return direct
  if (!/^[A-Za-z0-9+/=\s]*$/.test(text)) throw hashChainError('malformed_hash_chain', 'Parsing hash chain failed: DigestValue is not base64')
  return base64Of(text)
}

/** Parses a ds:Transforms element into the list of algorithm URIs (only C14N variants are supported). */
function parseTransforms(el: LexElement, limits: HashChainLimits): string[] {
  const children = onlyElements(el, 'Transforms')
  if (children.length > limits.maxTransforms) {
    throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: more than ${limits.maxTransforms} transforms on one reference`)
  }
  return children.map((t) => {
    expect(t, DS_NS, 'Transform', 'Transforms')
    return algorithmAttr(t)
  })
}

/** Value with schema checks of `AbstractValueType` and its extensions (hashchain.xsd). */
function parseValue(el: LexElement, limits: HashChainLimits): HashChainValue {
  const kind = el.localName as HashChainValue['kind']
  const children = onlyElements(el, kind)
  const node: HashChainValue = { kind }
  let i = 0
  if (children[i] && children[i]!.localName === 'DigestMethod' && children[i]!.namespaceURI === DS_NS) node.digestMethod = algorithmAttr(children[i++]!)
  if (kind === 'StepRef') {
    if (i !== children.length) throw hashChainError('malformed_hash_chain', 'Parsing hash chain failed: unexpected content in StepRef')
  } else {
    if (children[i] && children[i]!.localName === 'Transforms' && children[i]!.namespaceURI === DS_NS) node.transforms = parseTransforms(children[i++]!, limits)
    const dv = children[i++]
    if (dv === undefined) throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: ${kind} lacks DigestValue`)
    expect(dv, DS_NS, 'DigestValue', kind)
    node.digest = parseDigestValue(dv)
    if (i !== children.length) throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: unexpected content in ${kind}`)
  }
  if (kind !== 'HashValue') {
    const uri = el.getAttribute('URI')
    if (uri === null || !el.hasAttribute('URI')) throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: ${kind} lacks URI`)
    node.uri = uri
  }
  return node
}

/** The XML bounds of hashchain.xsd documents: HashChain/HashStep/DataRef/Transforms/Transform is five levels deep. */
function chainXmlLimits(limits: HashChainLimits): LexicalLimits {
  return {
    maxBytes: limits.maxDocumentBytes,
    maxDepth: 8,
    maxAttributes: 16,
    maxNameLength: 256,
    maxNodes: Math.min(DEFAULT_XML_LIMITS.maxNodes, limits.maxSteps * (limits.maxValuesPerStep + 2) * 8 + 64),
  }
}

/**
 * Reads a hash-chain document with the strict lexical reader (`xml-lexical.ts`; no DOM): O(n) in its length, within
 * {@link chainXmlLimits}. Anything outside the reader's subset or not well-formed is `malformed_hash_chain`.
 */
function parseRoot(xml: Uint8Array | string, name: string, limits: HashChainLimits): LexElement {
  let root: LexElement
  try {
    root = readLexical(xml, chainXmlLimits(limits), 'malformed_hash_chain', 'malformed_hash_chain', false).root
  } catch (cause) {
    throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: ${(cause as Error).message}`, cause)
  }
  expect(root, HASHCHAIN_NS, name, 'document')
  return root
}

/**
 * Parses a hash-chain document (hashchain.xsd `HashChainType`), counting steps against `stepBudget.remaining` and
 * values per step against the limit as it goes. O(n) in the document's length.
 */
export function parseHashChain(
  xml: Uint8Array | string,
  limitsIn: Partial<HashChainLimits> = {},
  stepBudget: { remaining: number } = { remaining: (limitsIn.maxSteps ?? DEFAULT_HASH_CHAIN_LIMITS.maxSteps) },
): ParsedHashChain {
  const limits = { ...DEFAULT_HASH_CHAIN_LIMITS, ...limitsIn }
  const root = parseRoot(xml, 'HashChain', limits)
  const children = onlyElements(root, 'HashChain')
  const chain: ParsedHashChain = { steps: new Map() }
  let i = 0
  if (children[0]?.localName === 'DefaultDigestMethod' && children[0].namespaceURI === HASHCHAIN_NS) chain.defaultDigestMethod = algorithmAttr(children[i++]!)
  for (; i < children.length; i++) {
    if (--stepBudget.remaining < 0) throw hashChainError('malformed_hash_chain', `Hash chain has more than ${limits.maxSteps} steps`)
    const step = children[i]!
    expect(step, HASHCHAIN_NS, 'HashStep', 'HashChain')
    const elements = onlyElements(step, 'HashStep')
    if (elements.length > limits.maxValuesPerStep) {
      throw hashChainError('malformed_hash_chain', `Hash step has more than ${limits.maxValuesPerStep} values`)
    }
    const values = elements.map((v) => {
      const kind = v.localName
      if (v.namespaceURI !== HASHCHAIN_NS || (kind !== 'HashValue' && kind !== 'StepRef' && kind !== 'DataRef')) {
        throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: unexpected element '${shown(v.localName ?? '')}' in HashStep`)
      }
      return parseValue(v, limits)
    })
    const id = step.getAttribute('id') ?? ''
    if (id !== '') {
      if (chain.steps.has(id)) throw hashChainError('malformed_hash_chain', `Parsing hash chain failed: duplicate step id '${shown(id)}'`)
      chain.steps.set(id, values)
    }
  }
  return chain
}

export interface ParsedHashChainResult {
  uri: string
  digestMethod: string
  digest: Buffer
}

export function parseHashChainResult(xml: Uint8Array | string, limitsIn: Partial<HashChainLimits> = {}): ParsedHashChainResult {
  const root = parseRoot(xml, 'HashChainResult', { ...DEFAULT_HASH_CHAIN_LIMITS, ...limitsIn })
  const children = onlyElements(root, 'HashChainResult')
  let i = 0
  let digestMethod: string | undefined
  if (children[0]?.localName === 'DigestMethod' && children[0].namespaceURI === DS_NS) digestMethod = algorithmAttr(children[i++]!)
  const dv = children[i++]
  if (dv === undefined) throw hashChainError('malformed_hash_chain', 'Parsing hash chain failed: HashChainResult lacks DigestValue')
  expect(dv, DS_NS, 'DigestValue', 'HashChainResult')
  if (i !== children.length) throw hashChainError('malformed_hash_chain', 'Parsing hash chain failed: unexpected content in HashChainResult')
  const uri = root.getAttribute('URI')
  if (!uri) throw hashChainError('malformed_hash_chain', 'Parsing hash chain failed: HashChainResult lacks URI')
  if (digestMethod === undefined) throw hashChainError('malformed_hash_chain', 'HashChainResult has no DigestMethod')
  return { uri, digestMethod, digest: parseDigestValue(dv) }
}

/**
 * A hash step once resolved: the DER DigestList of its values and its digest under each method asked for (the first
 * method inline, as a chain uses one; others by method).
 */
interface ResolvedStep {
  readonly data: Buffer
  method?: string
  digest?: Buffer
  others?: Map<string, Buffer>
}

/** A step's entry in `steps` while its values are resolved (compared by identity). */
const RESOLVING: ResolvedStep = { data: Buffer.alloc(0) }

/**
 * What a verification knows of one DataRef URI: whether it is an input that was referenced, and the digests of its
 * data per (method, transforms) — the first variant inline, further ones by `JSON.stringify([method, transforms])`.
 */
interface UriState {
  used: boolean
  method?: string
  transforms?: string[] | undefined
  digest?: Buffer
  others?: Map<string, Buffer>
}

function sameTransforms(a: string[] | undefined, b: string[] | undefined): boolean {
  const x = a ?? NO_TRANSFORMS
  const y = b ?? NO_TRANSFORMS
  if (x.length !== y.length) return false
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false
  return true
}

const NO_TRANSFORMS: string[] = []

/**
 * Verifies inputs against a hash-chain result (X-Road `HashChainVerifier.verify`): resolves the step the result
 * points to, recomputes every step digest, compares with the result (`invalid_hash_chain`), checks DataRef digests
 * of resolvable data (`invalid_hash_chain_ref`), fails a DataRef that cannot be resolved (`invalid_reference`) and
 * checks that every input was referenced (`hashchain_unused_inputs`).
 *
 * Complexity: each hash step is resolved once and its digest computed once per digest method (memoised; X-Road
 * recomputes a step for every reference, which is exponential in the depth of a chain whose steps reference one
 * step twice), and each URI's data is digested at most `maxDigestsPerUri` (2) times, once per distinct (transforms,
 * method). Time is therefore O(C + D): C the bytes of the chain documents read (at most `maxDocumentBytes` ×
 * `maxChainFiles`), D the bytes of the distinct data referenced. Recursion is at most `maxDepth` deep.
 */
export function verifyHashChain(
  resultXml: Uint8Array | string | ParsedHashChainResult, verification: HashChainVerification,
): HashChainVerificationResult {
  const limits: HashChainLimits = verification.limits === undefined ? DEFAULT_HASH_CHAIN_LIMITS : { ...DEFAULT_HASH_CHAIN_LIMITS, ...verification.limits }
  // A result parsed before (a batch's shared result, remembered with its verified signature) is not read again.
  const result = typeof resultXml === 'string' || resultXml instanceof Uint8Array ? parseHashChainResult(resultXml, limits) : resultXml
  const walk = new ChainWalk(verification, limits)
  const top = walk.resolveStep(result.uri, undefined, undefined)
  const calculated = digest(digestAlgorithmFromUri(result.digestMethod, 'malformed_hash_chain'), top.data)
  if (!calculated.equals(result.digest)) {
    throw hashChainError('invalid_hash_chain', 'Hash chain result does not match hash chain calculation')
  }
  let unused: string[] | undefined
  for (const uri in verification.inputs) {
    if (Object.prototype.hasOwnProperty.call(verification.inputs, uri) && walk.uris.get(uri)?.used !== true) (unused ??= []).push(uri)
  }
  if (unused !== undefined) {
    const listed = unused.slice(0, 10).map(shown).join(', ')
    throw hashChainError('hashchain_unused_inputs', `Some inputs were not referenced by hash chain: ${listed}${unused.length > 10 ? ` and ${unused.length - 10} more` : ''}`)
  }
  const unresolved = walk.unresolved
  return { unresolved: unresolved === undefined ? [] : [...unresolved].map(([uri, d]) => ({ uri, digest: d })) }
}

/** One verification's walk from the result's step down to the data, with its memos (see {@link verifyHashChain}). */
class ChainWalk {
  private readonly chains = new Map<string, ParsedHashChain>()
  private readonly stepBudget: { remaining: number }
  /**
   * Steps by their values (one array per step of a parsed chain, and one parsed chain per file: the same as its
   * `base#fragment`), {@link RESOLVING} while they are resolved.
   */
  private readonly steps = new Map<HashChainValue[], ResolvedStep>()
  private depth = 0
  /** DataRef URIs met. */
  readonly uris = new Map<string, UriState>()
  unresolved: Map<string, Buffer> | undefined

  constructor(private readonly verification: HashChainVerification, private readonly limits: HashChainLimits) {
    this.stepBudget = { remaining: limits.maxSteps }
  }

  private chainFor(baseUri: string): ParsedHashChain {
    let chain = this.chains.get(baseUri)
    if (chain === undefined) {
      if (this.chains.size >= this.limits.maxChainFiles) throw hashChainError('malformed_hash_chain', `Hash chain references more than ${this.limits.maxChainFiles} chain files`)
      const bytes = this.verification.resolve(baseUri)
      if (bytes === undefined) throw hashChainError('invalid_reference', `Cannot resolve URI: ${shown(baseUri)}`)
      chain = parseHashChain(bytes, this.limits, this.stepBudget)
      this.chains.set(baseUri, chain)
    }
    return chain
  }

  resolveStep(uri: string, current: ParsedHashChain | undefined, currentBase: string | undefined): ResolvedStep {
    const hash = uri.indexOf('#')
    if (hash < 0 || hash === uri.length - 1) throw hashChainError('malformed_hash_chain', `Invalid hash step URI: ${shown(uri)}`)
    const local = hash === 0
    const chainBase = local ? currentBase : uri.slice(0, hash)
    const chain = local ? current : this.chainFor(chainBase!)
    if (chain === undefined) throw hashChainError('malformed_hash_chain', `Invalid hash step URI: ${shown(uri)}`)
    const values = chain.steps.get(uri.slice(hash + 1))
    // A step that does not exist was never resolved: it fails below, after the depth check, as a known one never does.
    const known = values === undefined ? undefined : this.steps.get(values)
    if (known === RESOLVING) throw hashChainError('malformed_hash_chain', `Cycle in hash chain at ${shown(uri)}`)
    if (known !== undefined) return known
    if (this.depth >= this.limits.maxDepth) throw hashChainError('malformed_hash_chain', `Hash chain is nested deeper than ${this.limits.maxDepth} steps`)
    if (values === undefined) throw hashChainError('malformed_hash_chain', `Invalid hash step URI: ${shown(uri)}`)
    this.steps.set(values, RESOLVING)
    this.depth++
    const items = new Array<{ digest: Uint8Array; methodUri: string }>(values.length)
    for (let i = 0; i < values.length; i++) items[i] = this.resolveValue(values[i]!, chain, chainBase)
    const step: ResolvedStep = { data: concatDigests(items) }
    this.depth--
    this.steps.set(values, step)
    return step
  }

  private digestOfStep(methodUri: string, step: ResolvedStep): Buffer {
    if (step.method === methodUri) return step.digest!
    let value = step.others?.get(methodUri)
    if (value === undefined) {
      value = digest(digestAlgorithmFromUri(methodUri, 'malformed_hash_chain'), step.data)
      if (step.method === undefined) {
        step.method = methodUri
        step.digest = value
      } else (step.others ??= new Map()).set(methodUri, value)
    }
    return value
  }

  private resolveValue(value: HashChainValue, chain: ParsedHashChain, chainBase: string | undefined): { digest: Uint8Array; methodUri: string } {
    const methodUri = value.digestMethod ?? chain.defaultDigestMethod
    if (methodUri === undefined) throw hashChainError('malformed_hash_chain', 'Hash chain value has no digest method and the chain no default')
    if (value.kind === 'HashValue') return { digest: value.digest!, methodUri }
    if (value.kind === 'StepRef') return { digest: this.digestOfStep(methodUri, this.resolveStep(value.uri!, chain, chainBase)), methodUri }
    const uri = value.uri!
    let state = this.uris.get(uri)
    if (state === undefined) this.uris.set(uri, (state = { used: false }))
    const inputs = this.verification.inputs
    const isInput = Object.prototype.hasOwnProperty.call(inputs, uri)
    if (isInput) state.used = true
    const input = isInput ? inputs[uri] : undefined
    // X-Road `getMatchingInputHash`: a precomputed input digest with the same method is used as is.
    if (input && 'digest' in input && DIGEST_URIS[input.algorithm] === methodUri) return { digest: input.digest, methodUri }
    const given = input !== null && input !== undefined && 'data' in input
    const shouldResolve = this.verification.shouldResolve
    if (!given && shouldResolve !== undefined && !shouldResolve(uri)) {
      this.unresolved ??= new Map()
      if (!this.unresolved.has(uri)) this.unresolved.set(uri, value.digest!)
      return { digest: value.digest!, methodUri }
    }
    const calculated = this.dataDigest(uri, state, input, methodUri, value.transforms)
    if (!calculated.equals(value.digest!)) {
      throw hashChainError('invalid_hash_chain_ref', `Invalid digest value in hash chain reference to ${shown(uri)}`)
    }
    return { digest: calculated, methodUri }
  }

  private dataDigest(uri: string, state: UriState, input: HashChainInputValue | undefined, methodUri: string, transforms: string[] | undefined): Buffer {
    if (state.method === methodUri && sameTransforms(state.transforms, transforms)) return state.digest!
    const memoKey = state.method === undefined ? undefined : JSON.stringify([methodUri, transforms ?? []])
    let value = memoKey === undefined ? undefined : state.others?.get(memoKey)
    if (value === undefined) {
      const variants = (state.method === undefined ? 0 : 1) + (state.others?.size ?? 0)
      if (variants >= this.limits.maxDigestsPerUri) {
        throw hashChainError('malformed_hash_chain', `Hash chain digests ${shown(uri)} in more than ${this.limits.maxDigestsPerUri} ways`)
      }
      const data = input && 'data' in input ? input.data : this.verification.resolve(uri)
      // X-Road `HashChainVerifier.resolveDataRef`: data that cannot be resolved fails the reference.
      if (data === undefined) throw hashChainError('invalid_reference', `Cannot resolve URI: ${shown(uri)}`)
      const algorithm = digestAlgorithmFromUri(methodUri, 'malformed_hash_chain')
      value = transforms === undefined || transforms.length === 0 ? partDigest(algorithm, data) : digest(algorithm, applyTransforms(data, transforms))
      if (memoKey === undefined) {
        state.method = methodUri
        state.transforms = transforms
        state.digest = value
      } else (state.others ??= new Map()).set(memoKey, value)
    }
    return value
  }
}

/** DataRef transforms (hashchain.xsd allows ds:Transforms; X-Road never produces them, verifies C14N ones). */
function applyTransforms(data: Uint8Array, transforms: string[] | undefined): Uint8Array | string {
  if (transforms === undefined || transforms.length === 0) return data
  let current: Uint8Array | string = data
  for (const uri of transforms) {
    if (!isC14nUri(uri)) throw hashChainError('malformed_hash_chain', `Unsupported hash chain transform '${shown(uri)}'`)
    let doc
    try {
      doc = parseXml(current)
    } catch (cause) {
      throw hashChainError('invalid_hash_chain_ref', 'Cannot canonicalize referenced data: not XML', cause)
    }
    current = Buffer.from(canonicalize(doc, uri), 'utf8')
  }
  return current
}
