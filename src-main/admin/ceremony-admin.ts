import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, statSync } from 'node:fs'
import { basename, isAbsolute, join, sep } from 'node:path'
import { z } from 'zod'
import { decodeIdentifier, memberId, securityServerId, type MemberId, type SecurityServerId } from '@shared/domain/identifiers'
import type {
  CeremonyApi, CeremonyEntryInfo, CeremonyProgress, CeremonyReason, CeremonySummary, CeremonyTranscriptView,
} from '@shared/admin-api/ceremony-api'
import {
  CEREMONY_STATE_FILE, CeremonySession, KeyCeremony, refusal, renderTranscriptReport, verifyTranscript,
  type KeyCeremonyState, type Transcript, type TranscriptEntry,
} from '../ceremony'
import { clientError, pemBlocks, type Clock, type Logger, type PemBlock } from '../platform'
import { validate } from './admin-validation'

/**
 * The ceremony admin group (issue 8 item 1, the GUI side of `gatehouse ceremony …`): each ceremony in its own folder
 * `DATA_DIR/ceremonies/<ceremony id>`, its steps run through `KeyCeremony` so dual control, refusals and the
 * hash-chained transcript are exactly the CLI's. A ceremony's token session stays open between calls (log in once,
 * then generate, create the CSR and seal) and is closed after the seal or after `IDLE_CLOSE_MS` without a step.
 * The PIN is passed to the device and nowhere else; the dispatcher audits the call without its arguments.
 */

/** A logged-in ceremony token left alone this long is logged out (the GUI then asks for the PIN again). */
export const IDLE_CLOSE_MS = 30 * 60 * 1000

/**
 * PKCS#11 modules are loaded into this process, so only libraries installed in system folders are accepted: a
 * caller cannot make the server load a file it uploaded or wrote elsewhere (reliability-and-security.md §4.1).
 */
export const DEFAULT_MODULE_DIRS = [
  '/usr/lib', '/usr/lib64', '/usr/local/lib', '/lib', '/lib64', '/opt', '/Library', '/usr/local/Cellar',
  'C:\\Windows\\System32', 'C:\\Program Files', 'C:\\Program Files (x86)',
]
const MODULE_EXTENSION = /\.(so(\.\d+)*|dylib|dll)$/i

const CEREMONY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const idSchema = z.string().regex(CEREMONY_ID, 'a ceremony id')
const actorSchema = z.string().min(1).max(100).optional()
const confirmationsSchema = z
  .array(z.object({ participant: z.string().min(1).max(100), passphrase: z.string().max(1024) }).strict())
  .max(10)
const PEM_LIMIT = 64 * 1024

const createSchema = z.object({ title: z.string().trim().min(1, 'give the ceremony a title').max(200), kind: z.enum(['key', 'ca']) }).strict()
const participantSchema = z
  .object({
    id: idSchema,
    name: z.string().trim().min(1, 'give the participant a name').max(100),
    role: z.enum(['administrator', 'custodian', 'witness']),
    passphrase: z.string().max(1024),
  })
  .strict()
const targetSchema = z.object({ id: idSchema, actor: actorSchema }).strict()
const identifySchema = z
  .object({ id: idSchema, actor: actorSchema, modulePath: z.string().min(1).max(1000), tokenLabel: z.string().min(1).max(32) })
  .strict()
const loginSchema = z.object({ id: idSchema, actor: actorSchema, pin: z.string().min(1, 'give the token PIN').max(256) }).strict()
const generateSchema = z
  .object({
    id: idSchema,
    actor: actorSchema,
    label: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a key label is 1-64 letters, digits, dots, dashes or underscores'),
    algorithm: z.enum(['ec-p256', 'rsa-2048', 'rsa-3072', 'rsa-4096']),
    usage: z.enum(['sign', 'auth']).optional(),
    confirmations: confirmationsSchema,
  })
  .strict()
const csrSchema = z
  .object({
    id: idSchema,
    actor: actorSchema,
    member: z.string().trim().min(1, 'give the member').max(600),
    format: z.enum(['pem', 'der']),
    certificateProfile: z.string().regex(/^[A-Za-z0-9_.$]{1,200}$/, 'a certificate profile class name').optional(),
    confirmations: confirmationsSchema,
  })
  .strict()
const importSchema = z
  .object({
    id: idSchema,
    actor: actorSchema,
    certificatePem: z.string().min(1, 'give the issued certificate').max(PEM_LIMIT),
    caCertificatePem: z.string().min(1, 'give the CA certificate').max(PEM_LIMIT * 4),
  })
  .strict()
const sealSchema = z.object({ id: idSchema, actor: actorSchema, confirmations: confirmationsSchema }).strict()
const viewSchema = z.object({ id: idSchema }).strict()
const transcriptSchema = z.object({ id: idSchema.optional() }).strict()

export interface CeremonyAdminDeps {
  dataDir: string
  clock: Clock
  logger: Logger
  /** Folders PKCS#11 modules may be loaded from; `DEFAULT_MODULE_DIRS` by default. */
  moduleDirs?: readonly string[]
}

export interface CeremonyAdmin extends CeremonyApi {
  /** Logs out and closes every open ceremony token session. */
  close(): Promise<void>
}

interface OpenCeremony {
  ceremony: KeyCeremony
  loggedIn: boolean
  idle?: ReturnType<typeof setTimeout>
}

function readState(dir: string): KeyCeremonyState {
  const file = join(dir, CEREMONY_STATE_FILE)
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as KeyCeremonyState) : {}
}

/** The member (sign key) or security server (auth key) named as `INSTANCE:CLASS:CODE[:SERVER]`, a path or encoded. */
function subjectOf(value: string, usage: 'sign' | 'auth'): MemberId | SecurityServerId {
  const wanted = usage === 'sign' ? 'member as INSTANCE:CLASS:CODE' : 'security server as INSTANCE:CLASS:CODE:SERVER'
  if (/^(MEMBER|SERVER):/.test(value)) {
    const decoded = decodeIdentifier(value)
    if ((usage === 'sign' && decoded.objectType === 'MEMBER') || (usage === 'auth' && decoded.objectType === 'SERVER')) return decoded as MemberId | SecurityServerId
  } else {
    const parts = value.split(/[:/]/).map((p) => p.trim())
    if (parts.every((p) => p !== '')) {
      if (usage === 'sign' && parts.length === 3) return memberId(parts[0]!, parts[1]!, parts[2]!)
      if (usage === 'auth' && parts.length === 4) return securityServerId(memberId(parts[0]!, parts[1]!, parts[2]!), parts[3]!)
    }
  }
  throw refusal('member-format', { usage }, `Give the ${wanted} (this ceremony's key is a ${usage === 'sign' ? 'signing' : 'authentication'} key)`, 'validation_failed')
}

/** The PEM blocks of a text, each as its own bytes (a CA chain pasted or read from one file). */
function certificatePemBlocks(text: string, field: 'certificatePem' | 'caCertificatePem'): Buffer[] {
  const what = field === 'certificatePem' ? 'certificate' : 'CA certificate'
  let blocks: PemBlock[]
  try {
    blocks = pemBlocks(text, { labels: ['CERTIFICATE'] })
  } catch (cause) {
    throw refusal('pem-missing', { field }, `The ${what} is not a PEM certificate: ${(cause as Error).message}`, 'validation_failed')
  }
  if (blocks.length === 0) throw refusal('pem-missing', { field }, `The ${what} is not a PEM certificate (-----BEGIN CERTIFICATE-----)`, 'validation_failed')
  return blocks.map((b) => Buffer.from(`${b.text}\n`, 'utf8'))
}

/** Why an entry was refused or recorded as a warning, from what it recorded. */
function reasonOf(entry: TranscriptEntry): CeremonyReason | null {
  const { reason, reasonCode, reasonParams } = entry.details
  if (typeof reason !== 'string') return null
  const params = reasonParams !== null && typeof reasonParams === 'object' ? (reasonParams as Record<string, string | number>) : {}
  return { text: reason, code: typeof reasonCode === 'string' ? reasonCode : null, params }
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'ceremony'
}

export function createCeremonyAdmin(deps: CeremonyAdminDeps): CeremonyAdmin {
  const root = join(deps.dataDir, 'ceremonies')
  const moduleDirs = deps.moduleDirs ?? DEFAULT_MODULE_DIRS
  const open = new Map<string, OpenCeremony>()
  const queues = new Map<string, Promise<unknown>>()

  const dirOf = (id: string): string => {
    const dir = join(root, id)
    if (!existsSync(join(dir, 'transcript.json'))) throw clientError('not_found', `No ceremony ${id} on this server`)
    return dir
  }

  /** One step at a time per ceremony: the transcript is a chain, and the token session is shared. */
  function serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = queues.get(id) ?? Promise.resolve()
    const next = previous.then(work, work)
    const settled = next.then(() => undefined, () => undefined)
    queues.set(id, settled)
    void settled.then(() => {
      if (queues.get(id) === settled) queues.delete(id)
    })
    return next
  }

  async function closeOne(id: string): Promise<void> {
    const handle = open.get(id)
    if (handle === undefined) return
    open.delete(id)
    if (handle.idle !== undefined) clearTimeout(handle.idle)
    try {
      await handle.ceremony.close()
    } catch (error) {
      deps.logger.error({ err: error, ceremony: id }, 'cannot close the ceremony token session')
    }
  }

  function touch(id: string, handle: OpenCeremony): void {
    if (handle.idle !== undefined) clearTimeout(handle.idle)
    handle.idle = setTimeout(() => void serial(id, () => closeOne(id)), IDLE_CLOSE_MS)
    handle.idle.unref?.()
  }

  function handleOf(id: string): OpenCeremony {
    let handle = open.get(id)
    if (handle === undefined) {
      handle = { ceremony: KeyCeremony.open(CeremonySession.open(dirOf(id), deps.clock)), loggedIn: false }
      open.set(id, handle)
    }
    touch(id, handle)
    return handle
  }

  /** The named participant, or the ceremony administrator who leads the steps. */
  function actorOf(transcript: Transcript, actor: string | undefined): string {
    if (actor !== undefined) return actor
    const lead = transcript.participants.find((p) => p.role === 'administrator')
    if (lead === undefined) throw refusal('administrator-missing', {}, 'Register the ceremony administrator first: they lead every step')
    return lead.id
  }

  /** Runs a step on the ceremony's open token session, serialized with its other steps. */
  function step<T>(id: string, work: (handle: OpenCeremony, actor: (given?: string) => string) => Promise<T>): Promise<T> {
    return serial(id, async () => {
      const handle = handleOf(id)
      return work(handle, (given) => actorOf(handle.ceremony.session.transcript, given))
    })
  }

  function summaryOf(dir: string, transcript: Transcript): CeremonySummary {
    const state = readState(dir)
    const id = transcript.ceremony.id
    const progress: CeremonyProgress = {
      offlineChecked: transcript.entries.some((e) => e.step === 'check-offline' && e.outcome !== 'refused'),
      token: state.token === undefined ? null : { label: state.token.label, serialNumber: state.token.serialNumber, modulePath: state.token.modulePath },
      loggedIn: open.get(id)?.loggedIn ?? false,
      key: state.key === undefined ? null : { label: state.key.label, algorithm: state.key.algorithm, usage: state.key.usage, publicKeySha256: state.key.publicKeySha256 },
      csr: state.csr === undefined ? null : { fileName: basename(state.csr.file), sha256: state.csr.sha256, hasQr: state.csr.qrFile !== undefined },
      certificate: state.certificate === undefined ? null : {
        subject: state.certificate.subject, issuer: state.certificate.issuer, serialNumber: state.certificate.serialNumber, sha256: state.certificate.sha256,
      },
      sealed: transcript.seal !== undefined,
    }
    return {
      id, title: transcript.ceremony.title, kind: transcript.ceremony.kind, startedAt: transcript.ceremony.startedAt,
      participants: transcript.participants.map((p) => ({ id: p.id, name: p.name, role: p.role })),
      steps: transcript.entries.length,
      refusals: transcript.entries.filter((e) => e.outcome === 'refused').length,
      progress,
    }
  }

  /** Where the seal key is, from the seal step that produced it: a software key (a recorded warning) or a key on the token. */
  function sealKeyOn(transcript: Transcript, state: KeyCeremonyState): NonNullable<CeremonyTranscriptView['seal']>['keyOn'] {
    const step = transcript.entries.findLast((e) => e.step === 'prepare-seal' && e.outcome !== 'refused')
    if (step === undefined) return null
    if (step.outcome === 'warning') return { kind: 'software' }
    const keyId = step.details.keyId
    return state.token === undefined || typeof keyId !== 'string' ? null : { kind: 'token', token: state.token.label, serialNumber: state.token.serialNumber, keyId }
  }

  function viewOf(id: string): CeremonyTranscriptView {
    const dir = dirOf(id)
    const session = CeremonySession.open(dir, deps.clock)
    const transcript = session.transcript
    const verification = verifyTranscript(transcript)
    const entries: CeremonyEntryInfo[] = transcript.entries.map((e) => ({
      seq: e.seq, at: e.at, step: e.step, title: e.title, outcome: e.outcome, actor: e.actor, confirmedBy: e.confirmedBy,
      details: e.details, reason: e.outcome === 'done' ? null : reasonOf(e), artifacts: e.artifacts, hash: e.hash,
    }))
    const seal = transcript.seal
    return {
      ceremony: summaryOf(dir, transcript),
      entries,
      seal: seal === undefined ? null : {
        algorithm: seal.algorithm, keyLocation: seal.keyLocation, publicKeyFingerprint: seal.publicKeyFingerprint, sealedAt: seal.sealedAt,
        keyOn: sealKeyOn(transcript, readState(dir)),
      },
      verification: {
        valid: verification.valid, problems: verification.problems, findings: verification.findings, sealed: verification.sealed,
        sealFingerprint: verification.sealFingerprint ?? null,
      },
      file: { fileName: `transcript-${id}.json`, mimeType: 'application/json', content: readFileSync(session.transcriptPath, 'utf8'), encoding: 'utf8' },
    }
  }

  function checkedModule(path: string): string {
    if (!isAbsolute(path)) {
      throw refusal('module-path-relative', { path }, 'Give the full path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so', 'validation_failed')
    }
    let real: string
    try {
      real = realpathSync(path)
    } catch {
      throw refusal('module-missing', { path }, `There is no PKCS#11 module at ${path}`, 'validation_failed')
    }
    if (!statSync(real).isFile() || !MODULE_EXTENSION.test(real)) {
      throw refusal('module-not-library', { path }, `${path} is not a shared library (.so, .dylib or .dll)`, 'validation_failed')
    }
    const within = moduleDirs.some((d) => real === d || real.startsWith(d.endsWith(sep) ? d : `${d}${sep}`))
    if (!within) {
      const folders = moduleDirs.join(', ')
      throw refusal('module-outside-system', { path, folders }, `PKCS#11 modules are loaded only from system library folders (${folders}); ${path} is elsewhere`, 'validation_failed')
    }
    return path
  }

  function listAll(): CeremonySummary[] {
    if (!existsSync(root)) return []
    const found: CeremonySummary[] = []
    for (const name of readdirSync(root)) {
      if (!CEREMONY_ID.test(name) || !existsSync(join(root, name, 'transcript.json'))) continue
      try {
        found.push(summaryOf(join(root, name), CeremonySession.open(join(root, name), deps.clock).transcript))
      } catch (error) {
        deps.logger.error({ err: error, ceremony: name }, 'cannot read a ceremony transcript')
      }
    }
    return found.sort((a, b) => b.startedAt.localeCompare(a.startedAt))
  }

  return {
    async list() {
      return listAll()
    },

    async create(input) {
      const { title, kind } = validate(createSchema, input, 'ceremony')
      if (kind === 'ca') {
        throw clientError('validation_failed', 'CA ceremonies run from the command line (gatehouse ceremony ca-init, ca-sign); the wizard runs key ceremonies', { detail: 'kind' })
      }
      mkdirSync(root, { recursive: true, mode: 0o700 })
      // Created under a temporary name, then renamed to the id the transcript carries, so folder and id agree.
      const staging = join(root, `.new-${randomUUID()}`)
      const session = CeremonySession.create(staging, { title, kind, clock: deps.clock })
      const dir = join(root, session.transcript.ceremony.id)
      renameSync(staging, dir)
      return summaryOf(dir, CeremonySession.open(dir, deps.clock).transcript)
    },

    addParticipant(input) {
      const q = validate(participantSchema, input, 'participant')
      return step(q.id, async ({ ceremony }) => ceremony.session.addParticipant({ name: q.name, role: q.role, passphrase: q.passphrase }))
    },

    checkOffline(input) {
      const q = validate(targetSchema, input, 'step')
      return step(q.id, async ({ ceremony }, actor) => ceremony.checkOffline(actor(q.actor)))
    },

    identifyToken(input) {
      const q = validate(identifySchema, input, 'token')
      const modulePath = checkedModule(q.modulePath)
      return step(q.id, async ({ ceremony }, actor) => {
        const d = await ceremony.identifyToken(actor(q.actor), { modulePath, tokenLabel: q.tokenLabel })
        return {
          label: d.label, serialNumber: d.serialNumber, manufacturer: d.manufacturer, model: d.model,
          hardwareVersion: d.hardwareVersion, firmwareVersion: d.firmwareVersion, mechanisms: [...d.mechanisms],
        }
      })
    },

    login(input) {
      const q = validate(loginSchema, input, 'login')
      return step(q.id, async (handle, actor) => {
        handle.loggedIn = false
        await handle.ceremony.login(actor(q.actor), q.pin)
        handle.loggedIn = true
        return summaryOf(handle.ceremony.session.dir, handle.ceremony.session.transcript)
      })
    },

    generateKey(input) {
      const q = validate(generateSchema, input, 'key')
      return step(q.id, async ({ ceremony }, actor) => {
        const key = await ceremony.generateKey(actor(q.actor), { label: q.label, algorithm: q.algorithm, usage: q.usage ?? 'sign' }, q.confirmations)
        return {
          keyId: key.id, label: q.label, algorithm: q.algorithm, publicKeySha256: ceremony.state.key?.publicKeySha256 ?? '',
          attributes: Object.fromEntries(Object.entries(key.attributes).map(([k, v]) => [k, v === true])),
        }
      })
    },

    createCsr(input) {
      const q = validate(csrSchema, input, 'certificate request')
      return step(q.id, async ({ ceremony }, actor) => {
        const usage = ceremony.state.key?.usage ?? 'sign'
        const csr = await ceremony.createCsr(
          actor(q.actor),
          { subjectOf: subjectOf(q.member, usage), certificateProfile: q.certificateProfile ?? 'EjbcaCertificateProfileInfoProvider', outDir: join(ceremony.session.dir, 'media') },
          q.confirmations,
        )
        const name = basename(csr.file)
        const qrPng = csr.qrFile === undefined || csr.qrSha256 === undefined ? null
          : { fileName: basename(csr.qrFile), content: readFileSync(csr.qrFile).toString('base64'), sha256: csr.qrSha256 }
        return q.format === 'pem'
          ? { fileName: name, mimeType: 'application/pkcs10', content: csr.pem, encoding: 'utf8' as const, sha256: csr.sha256, qrPng }
          : { fileName: name.replace(/\.pem$/, '.der'), mimeType: 'application/pkcs10', content: csr.der.toString('base64'), encoding: 'base64' as const, sha256: csr.sha256, qrPng }
      })
    },

    importCertificate(input) {
      const q = validate(importSchema, input, 'certificate')
      const [certificate] = certificatePemBlocks(q.certificatePem, 'certificatePem')
      const cas = certificatePemBlocks(q.caCertificatePem, 'caCertificatePem')
      return step(q.id, async ({ ceremony }, actor) => ceremony.importCertificate(actor(q.actor), {
        certificate: certificate!, certificateName: 'certificate.pem',
        caCertificates: cas.map((bytes, i) => ({ name: cas.length === 1 ? 'ca.pem' : `ca-${i + 1}.pem`, bytes })),
      }))
    },

    seal(input) {
      const q = validate(sealSchema, input, 'seal')
      return step(q.id, async (handle, actor) => {
        if (handle.ceremony.state.token !== undefined && !handle.loggedIn) {
          throw refusal('seal-login-first', {},
            'Log in to the ceremony token first, so the seal key is generated on it (the login ends when the server restarts or after 30 minutes without a step)', 'token_not_active')
        }
        await handle.ceremony.seal(actor(q.actor), q.confirmations)
        await closeOne(q.id)
        return viewOf(q.id)
      })
    },

    async transcript(input) {
      const { id } = validate(transcriptSchema, input ?? {}, 'ceremony')
      if (id !== undefined) return viewOf(id)
      const newest = listAll()[0]
      return newest === undefined ? null : viewOf(newest.id)
    },

    async report(input) {
      const { id } = validate(viewSchema, input, 'ceremony')
      const transcript = CeremonySession.open(dirOf(id), deps.clock).transcript
      return {
        fileName: `ceremony-report-${slug(transcript.ceremony.title)}-${id.slice(0, 8)}.html`,
        mimeType: 'text/html',
        content: renderTranscriptReport(transcript, verifyTranscript(transcript)),
        encoding: 'utf8',
      }
    },

    async close() {
      await Promise.all([...open.keys()].map((id) => serial(id, () => closeOne(id))))
    },
  }
}
