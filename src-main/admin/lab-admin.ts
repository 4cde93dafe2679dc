import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { z } from 'zod'
import {
  globalGroupId, memberId, securityServerId, subsystemId, validateIdentifierPart, type ClientId, type MemberId, type SecurityServerId,
} from '@shared/domain/identifiers'
import type {
  CreateLabInput, InitializationApi, LabAdminApi, LabApi, LabCertificateDto, LabCertificateFileDto, LabGlobalGroupDto, LabMemberDto,
  LabManagementDto, LabManagementRequestDto, LabOperationDto, LabServerDto, LabServicesDto, LabStatus, LabStepDto, LabStepId, LabTrustServicesDto,
} from '@shared/admin-api/admin-api'
import { parseConfigurationAnchor } from '../global-conf'
import {
  certificateToPem, initLab, labPaths, openLab, startLabServer, type LabAuthority, type LabCertificate, type ManagementRequestRow, type RunningLabServer,
} from '../lab'
import { SOFTWARE_TOKEN_ID } from '../signer'
import { SecurityServerError, clientError, logFailure, toSecurityServerError, writeFileAtomic, type Clock, type Logger } from '../platform'
import { validate } from './admin-validation'
import { HOSTED_LAB_FILE, configureManagementServices } from './hosted-lab'
import { encodeId, parseClientRef, parseMemberRef, parseServerRef, parseSubsystemRef, pathOf, type DomainsOf } from './domain-support'

/**
 * "Create a lab on this machine" (issue 7, first run): a trust domain in DATA_DIR/lab whose OCSP responder,
 * time-stamping authority and configuration source run on 127.0.0.1 alongside this server, with this server as its
 * first member's security server — the steps of tests/integration/lab-pair.ts, one at a time with progress. The PIN is
 * handed to the signer and kept nowhere: not in the operation state, the log or the audit log.
 */
export interface LabAdminDeps {
  dataDir: string
  domains: DomainsOf
  initialization: InitializationApi
  clock: Clock
  logger: Logger
  /** The server proxy port other servers reach this one on (ServerConfig external.serverProxyPort); read from DATA_DIR/gatehouse.json when omitted. */
  serverProxyPort?: number | null
  /** How long joining waits for the first global configuration download (default 60 s). */
  joinTimeoutMs?: number
}

export interface LabAdmin extends LabApi {
  /** Stops the lab's services (the composition root calls it when the server stops). */
  close(): Promise<void>
}

/** X-Road's default server proxy port (ServerConfig `external.serverProxyPort`). */
const DEFAULT_SERVER_PROXY_PORT = 5500
/** The certificate profile the lab CA issues by (lab/configuration-xml.ts names it in the approved CA). */
const LAB_CERTIFICATE_PROFILE = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'

const STEP_TITLES: Record<LabStepId, string> = {
  lab: 'Create the trust domain',
  services: 'Start the lab services',
  member: 'Register the owner member',
  token: 'Open the software token',
  keys: 'Generate this server’s keys',
  certificates: 'Issue and activate certificates',
  register: 'Register this server',
  confirm: 'Confirm the anchor',
  join: 'Join and download global configuration',
}

const identifierPart = (field: Parameters<typeof validateIdentifierPart>[0], what: string) =>
  z.string().trim().min(1, `give the ${what}`).max(255).superRefine((value, ctx) => {
    try {
      validateIdentifierPart(field, value)
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message })
    }
  })

const createSchema = z
  .object({
    instance: identifierPart('xRoadInstance', 'instance name'),
    memberClass: identifierPart('memberClass', 'member class'),
    memberCode: identifierPart('memberCode', 'member code'),
    memberName: z.string().trim().min(1, 'give the member name').max(255),
    subsystemCode: identifierPart('subsystemCode', 'subsystem code').optional(),
    serverCode: identifierPart('serverCode', 'server code'),
    softwareTokenPin: z.string().min(1, 'give the token PIN').max(512),
  })
  .strict()

interface Operation {
  dto: LabOperationDto
  owner: MemberId
  subsystem: ClientId
  serverId: SecurityServerId
  anchorXml: string | null
  signCertId: string | null
}

const normalizeHash = (hash: string): string => hash.replace(/[^0-9a-fA-F]/g, '').toUpperCase()

/** DATA_DIR/lab/hosted-by-this-server.json: the lab this server created, its owner (path form) and server code. */
interface HostedLab {
  instance: string
  owner: string
  serverCode: string
}

/** What a wizard step did: English text (the fallback) and the outcome key + parameters the GUI translates. */
interface StepOutcome {
  text: string
  outcome?: string
  params?: Record<string, string>
}

export function createLabAdmin(deps: LabAdminDeps): LabAdmin {
  const { domains, clock, logger } = deps
  const labDir = join(deps.dataDir, 'lab')
  const hostedFile = join(labDir, HOSTED_LAB_FILE)
  let services: RunningLabServer | undefined
  let starting: Promise<RunningLabServer> | undefined
  let servicesError: string | null = null
  let operation: Operation | undefined
  let closed = false

  const hosted = (): HostedLab | undefined => {
    if (!existsSync(hostedFile) || !existsSync(labPaths(labDir).db)) return undefined
    return JSON.parse(readFileSync(hostedFile, 'utf8')) as HostedLab
  }

  /** Starts the lab's services once per process: free ports the first time, the lab's stored ports afterwards (the anchor names them). */
  const ensureServices = async (firstStart: boolean): Promise<RunningLabServer> => {
    if (closed) throw new SecurityServerError('conflict', 'The admin runtime is closed')
    if (services !== undefined) return services
    starting ??= startLabServer(labDir, { ...(firstStart ? { ports: { ocsp: 0, tsa: 0, conf: 0, management: 0 } } : {}), clock, logger: logger.child({ domain: 'lab' }) })
      .then(async (running) => {
        if (closed) {
          await running.close()
          throw new SecurityServerError('conflict', 'The admin runtime is closed')
        }
        services = running
        servicesError = null
        return running
      })
      .finally(() => {
        starting = undefined
      })
    return starting
  }

  const servicesDto = (): LabServicesDto => ({
    running: services !== undefined,
    ocspUrl: services?.urls.ocsp ?? null,
    tsaUrl: services?.urls.tsa ?? null,
    configurationUrl: services?.urls.internalconf ?? null,
    problem: services === undefined ? servicesError : null,
  })

  const snapshot = (op: Operation): LabOperationDto => structuredClone(op.dto)

  const serverAddress = (): string => {
    const port = deps.serverProxyPort !== undefined ? deps.serverProxyPort : configuredServerProxyPort(deps.dataDir)
    if (port === null) {
      throw clientError('validation_failed', 'The server proxy is switched off in gatehouse.json (external.serverProxyPort is null); other servers could not reach this one')
    }
    return `127.0.0.1:${port}`
  }

  const runStep = async <T>(op: Operation, id: LabStepId, work: () => Promise<T> | T, describe: (value: T) => StepOutcome): Promise<T> => {
    const step = op.dto.steps.find((s) => s.id === id) as LabStepDto
    step.state = 'running'
    step.detail = null
    try {
      const value = await work()
      const outcome = describe(value)
      step.state = 'done'
      step.detail = outcome.text
      step.outcome = outcome.outcome ?? 'done'
      step.params = outcome.params ?? {}
      return value
    } catch (error) {
      step.state = 'failed'
      const failure = toSecurityServerError(error)
      step.detail = failure.message
      step.outcome = 'failed'
      step.params = { code: failure.code }
      op.dto.state = 'failed'
      op.dto.error = { code: failure.code, message: failure.message }
      logFailure(logger, error, { step: id }, 'creating the lab failed')
      throw error
    }
  }

  const build = async (op: Operation, value: z.infer<typeof createSchema>): Promise<void> => {
    const { signer } = domains()
    const { owner, subsystem, serverId } = op
    const created = await runStep(op, 'lab', async () => {
      const result = await initLab(labDir, { instance: value.instance, keyAlgorithm: 'ec-p256', clock })
      writeFileAtomic(hostedFile, `${JSON.stringify({ instance: result.instance, owner: pathOf(owner), serverCode: value.serverCode, createdAt: clock.now().toISOString() }, null, 2)}\n`, 0o600)
      return result
    }, (r) => ({
      text: `Certification authority, OCSP responder, time-stamping authority and configuration signing keys of ${r.instance} are in ${labDir}.`,
      params: { instance: r.instance, dir: labDir },
    }))
    const running = await runStep(op, 'services', () => ensureServices(true),
      (s) => ({
        text: `OCSP responder ${s.urls.ocsp}, time-stamping ${s.urls.tsa}, configuration ${s.urls.internalconf}; they run while this server runs.`,
        params: { ocsp: s.urls.ocsp, tsa: s.urls.tsa, configuration: s.urls.internalconf },
      }))
    const lab: LabAuthority = openLab(labDir, { clock })
    try {
      await runStep(op, 'member', () => lab.addMember(owner, value.memberName, subsystem.objectType === 'SUBSYSTEM' ? subsystem.subsystemCode : undefined),
        () => ({
          text: `${value.memberName} (${pathOf(owner)}) and its subsystem ${pathOf(subsystem)} are members of ${created.instance}.`,
          params: { name: value.memberName, member: pathOf(owner), subsystem: pathOf(subsystem), instance: created.instance },
        }))
      await runStep(op, 'token', async () => {
        let token = (await signer.listTokens()).find((t) => t.id === SOFTWARE_TOKEN_ID)
        const made = token === undefined
        if (token === undefined) token = await signer.initSoftwareToken(value.softwareTokenPin)
        if (!token.loggedIn) await signer.login(SOFTWARE_TOKEN_ID, value.softwareTokenPin)
        return made
      }, (made) => (made
        ? { text: 'The software token was created with your PIN and is logged in.', outcome: 'created' }
        : { text: 'The existing software token is logged in.', outcome: 'existing' }))
      const keys = await runStep(op, 'keys', async () => ({
        auth: await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'auth', algorithm: 'ec-p256', label: `${value.serverCode} authentication (lab)` }),
        sign: await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'sign', algorithm: 'ec-p256', label: `${value.serverCode} signing (lab)` }),
      }), () => ({ text: 'An authentication key (for connections to other servers) and a signing key (for messages), EC P-256, on the software token.' }))
      const caDer = lab.certificateDer('ca')
      const certs = await runStep(op, 'certificates', async () => {
        const issue = async (keyId: string, usage: 'auth' | 'sign'): Promise<{ id: string; der: Uint8Array }> => {
          const csr = await signer.generateCsr({ keyId, subjectOf: usage === 'auth' ? serverId : owner, certificateProfile: LAB_CERTIFICATE_PROFILE, format: 'pem' })
          const issued = await lab.issueCertificate(csr.encoded.toString('utf8'), usage)
          const cert = await signer.importCertificate(issued.der, { ...(usage === 'sign' ? { memberId: owner } : {}), approvedCaCertificates: [caDer] })
          signer.activateCertificate(cert.id)
          return { id: cert.id, der: issued.der }
        }
        return { auth: await issue(keys.auth.id, 'auth'), sign: await issue(keys.sign.id, 'sign') }
      }, () => ({ text: 'The lab CA signed both certificate requests; the certificates are imported and active.' }))
      op.signCertId = certs.sign.id
      await runStep(op, 'register', () => {
        const address = serverAddress()
        const registered = lab.addSecurityServer(owner, value.serverCode, address, certs.auth.der)
        lab.addClient(serverId, subsystem)
        running.regenerate()
        return { address, hash: registered.authCertHash }
      }, (r) => ({
        text: `Security server ${pathOf(serverId)} is registered at ${r.address} with its authentication certificate (SHA-256 ${r.hash}) and serves ${pathOf(subsystem)}.`,
        params: { server: pathOf(serverId), address: r.address, hash: r.hash, subsystem: pathOf(subsystem) },
      }))
    } finally {
      lab.close()
    }
    const anchorXml = readFileSync(running.anchor, 'utf8')
    const preview = await deps.initialization.importAnchor(anchorXml)
    op.anchorXml = anchorXml
    op.dto.anchor = { instance: preview.instance, hash: preview.hash }
    const confirm = op.dto.steps.find((s) => s.id === 'confirm') as LabStepDto
    confirm.state = 'running'
    confirm.detail = 'Compare the anchor hash with the one shown here, then join.'
    confirm.outcome = 'waiting'
    op.dto.state = 'awaiting-confirmation'
  }

  const joinLab = async (op: Operation, confirmedHash: string): Promise<void> => {
    const timeoutMs = deps.joinTimeoutMs ?? 60_000
    await runStep(op, 'join', async () => {
      const { serverConf, signer, globalConf } = domains()
      await deps.initialization.initialize({ anchorXml: op.anchorXml as string, confirmedHash, owner: pathOf(op.owner), serverCode: op.serverId.serverCode })
      if (!serverConf.listClients().some((c) => pathOf(c.id) === pathOf(op.subsystem))) serverConf.addClient(op.subsystem, 'REGISTERED')
      const end = Date.now() + timeoutMs
      while (globalConf.current() === undefined) {
        if (closed) throw new SecurityServerError('conflict', 'The server stopped while joining the lab')
        if (Date.now() > end) {
          throw new SecurityServerError('global_conf_outdated', `No global configuration was downloaded within ${Math.round(timeoutMs / 1000)} s; see the Global configuration page`)
        }
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      // reliability-and-security.md §1.3: signing needs a good OCSP status of the own certificates.
      const statuses = await signer.refreshOcsp()
      const sign = statuses.find((s) => s.certId === op.signCertId)
      if (sign?.status !== 'good') {
        throw new SecurityServerError('cert_validation', `The lab OCSP responder did not confirm the signing certificate (status ${sign?.status ?? 'none'})`)
      }
      return globalConf.current()?.instanceIdentifier ?? ''
    }, (instance) => ({
      text: `This server is a member of ${instance}: global configuration is downloaded and the OCSP status of its certificates is good.`,
      params: { instance },
    }))
    op.dto.state = 'done'
  }

  /** Starts the services of a lab this server hosts when they should run and do not (a failure is reported, not thrown). */
  const resumeServices = async (): Promise<void> => {
    if (hosted() === undefined || services !== undefined || closed || operation?.dto.state === 'running') return
    try {
      await ensureServices(false)
    } catch (error) {
      servicesError = toSecurityServerError(error).message
      logFailure(logger, error, {}, 'the lab services could not be started')
    }
  }

  const registry = createLabRegistryAdmin({
    labDir,
    clock,
    hostedServer: () => {
      const info = hosted()
      return info === undefined ? undefined : securityServerId(parseMemberRef(info.owner, 'owner'), info.serverCode)
    },
    // While the wizard builds the lab, the registry is its alone.
    building: () => operation?.dto.state === 'running' && operation.dto.steps.some((step) => step.id !== 'join' && step.state !== 'done'),
    services: async () => {
      await resumeServices()
      return servicesDto()
    },
    configureManagementServices: (provider, serviceUrl) => configureManagementServices(domains().serverConf, provider, serviceUrl),
  })

  return {
    ...registry,
    async status(): Promise<LabStatus> {
      const lab = hosted()
      await resumeServices()
      return {
        exists: lab !== undefined,
        instance: lab?.instance ?? null,
        services: servicesDto(),
        operation: operation === undefined ? null : snapshot(operation),
      }
    },

    async create(input: CreateLabInput) {
      const value = validate(createSchema, input, 'lab')
      if (operation !== undefined && (operation.dto.state === 'running' || operation.dto.state === 'awaiting-confirmation')) {
        throw clientError('conflict', 'A lab is being created already; follow its progress or confirm its anchor')
      }
      const { serverConf } = domains()
      if (serverConf.identity() !== undefined) throw clientError('already_initialized', 'This security server is initialized already; a lab is created on a new server only')
      if (existsSync(labPaths(labDir).db)) {
        if (hosted() === undefined) throw clientError('already_initialized', `${labDir} holds a lab this server did not create; move it away first`)
        // A lab left by an attempt that failed before joining: nothing uses it, start over.
        await services?.close()
        services = undefined
        rmSync(labDir, { recursive: true, force: true })
      }
      const owner = memberId(value.instance, value.memberClass, value.memberCode)
      const op: Operation = {
        owner,
        subsystem: subsystemId(value.instance, value.memberClass, value.memberCode, value.subsystemCode ?? 'main'),
        serverId: securityServerId(owner, value.serverCode),
        anchorXml: null,
        signCertId: null,
        dto: {
          state: 'running',
          startedAt: clock.now().toISOString(),
          steps: (Object.keys(STEP_TITLES) as LabStepId[]).map((id) => ({ id, title: STEP_TITLES[id], state: 'pending', detail: null, outcome: null, params: {} })),
          anchor: null,
          error: null,
        },
      }
      operation = op
      // Runs on after the call returns; `status()` reports each step. Failures are recorded in the step.
      build(op, value).catch(() => undefined)
      return snapshot(op)
    },

    async confirm(input) {
      const value = validate(z.object({ confirmedHash: z.string().min(1, 'confirm the anchor hash').max(200) }).strict(), input, 'anchor confirmation')
      const op = operation
      if (op === undefined || op.dto.state !== 'awaiting-confirmation' || op.dto.anchor === null) {
        throw clientError('conflict', 'No lab is waiting for its anchor to be confirmed')
      }
      if (normalizeHash(value.confirmedHash) !== normalizeHash(op.dto.anchor.hash)) {
        throw clientError('validation_failed', 'The confirmed hash is not the hash of the lab anchor', { detail: 'confirmedHash' })
      }
      const confirm = op.dto.steps.find((s) => s.id === 'confirm') as LabStepDto
      confirm.state = 'done'
      confirm.detail = `You confirmed anchor hash ${op.dto.anchor.hash}.`
      confirm.outcome = 'confirmed'
      confirm.params = { hash: op.dto.anchor.hash }
      op.dto.state = 'running'
      joinLab(op, value.confirmedHash).catch(() => undefined)
      return snapshot(op)
    },

    async close() {
      closed = true
      const pending = starting
      await pending?.catch(() => undefined)
      await services?.close()
      services = undefined
    },
  }
}

/** `external.serverProxyPort` of DATA_DIR/gatehouse.json (the bootstrap configuration), X-Road's 5500 when unset. */
function configuredServerProxyPort(dataDir: string): number | null {
  const file = join(dataDir, 'gatehouse.json')
  if (!existsSync(file)) return DEFAULT_SERVER_PROXY_PORT
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { external?: { serverProxyPort?: unknown } }
    const port = parsed.external?.serverProxyPort
    if (port === null) return null
    return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : DEFAULT_SERVER_PROXY_PORT
  } catch (error) {
    throw clientError('validation_failed', `${file} is not valid JSON`, { cause: error })
  }
}

// ---- the lab's administration (the central server's side) -----------------------------------------------

interface LabRegistryDeps {
  labDir: string
  clock: Clock
  /** The security server that hosts the lab (from hosted-by-this-server.json); undefined when this server hosts none. */
  hostedServer(): SecurityServerId | undefined
  /** True while the first-run wizard is still building the lab. */
  building(): boolean
  /** The lab services' state, starting them when they should run. */
  services(): Promise<LabServicesDto>
  /** Configures this server to serve the management services (hosted-lab.ts `configureManagementServices`). */
  configureManagementServices(provider: ClientId, serviceUrl: string): void
}

/** Seconds a signed configuration directory stays valid: above the lab's 60 s regeneration, at most a week. */
const CONF_EXPIRY = { min: 120, max: 7 * 24 * 3600 }
const MAX_FILE_CHARS = 256 * 1024

const fileInput = { content: z.string().min(1, 'choose the file').max(MAX_FILE_CHARS, 'the file is too large'), encoding: z.enum(['utf8', 'base64']) }
const csrSchema = z.object({ ...fileInput, usage: z.enum(['sign', 'auth']).optional() }).strict()
const refSchema = (field: string) => z.object({ [field]: z.string() }).strict()
const serialSchema = z.object({ serial: z.string().trim().regex(/^[0-9A-Fa-f]{1,64}$/, 'a serial number in hex') }).strict()
const groupCodeSchema = z.object({ code: identifierPart('groupCode', 'group code') }).strict()

function fileBytes(value: { content: string; encoding: 'utf8' | 'base64' }, field: string): Uint8Array | string {
  if (value.encoding === 'utf8') return value.content
  const bytes = Buffer.from(value.content, 'base64')
  if (bytes.length === 0) throw clientError('validation_failed', 'The file is empty or not base64', { detail: field })
  return new Uint8Array(bytes)
}

function certificateStatus(c: LabCertificate, now: Date): LabCertificateDto['status'] {
  if (c.revokedAt !== null) return 'revoked'
  return c.notAfter.getTime() < now.getTime() ? 'expired' : 'good'
}

/** `C=LAB, O=GOV, CN=1234` → `LAB-GOV-1234`: a file name part from a subject's values. */
function subjectFileName(subject: string): string {
  return subject.split(',').map((rdn) => rdn.split('=').slice(1).join('=').trim()).filter((v) => v !== '').join('-').replace(/[^A-Za-z0-9._-]+/g, '_')
}

function certificateFile(c: { serial: string; usage: LabCertificateDto['usage']; subject: string; der: Uint8Array }): LabCertificateFileDto {
  return {
    serial: c.serial,
    usage: c.usage,
    subject: c.subject,
    pem: certificateToPem(c.der),
    derBase64: Buffer.from(c.der).toString('base64'),
    fileName: `${subjectFileName(c.subject)}-${c.usage}-${c.serial.slice(-8)}`,
  }
}

function managementRequestDto(r: ManagementRequestRow): LabManagementRequestDto {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    server: r.server,
    client: r.client,
    address: r.address,
    authCertHash: r.authCert === null ? null : createHash('sha256').update(r.authCert).digest('base64'),
    subsystemName: r.subsystemName,
    receivedAt: r.receivedAt,
    decidedAt: r.decidedAt,
    decidedBy: r.decidedBy,
  }
}

const requestIdSchema = z.object({ id: z.number().int().positive() }).strict()

function createLabRegistryAdmin(deps: LabRegistryDeps): LabAdminApi {
  const { labDir, clock } = deps

  /** Opens the lab for one use case. Changes are refused while the first-run wizard is still building it. */
  const withLab = async <T>(change: boolean, work: (lab: LabAuthority) => T | Promise<T>): Promise<T> => {
    if (deps.hostedServer() === undefined) throw clientError('not_initialized', 'This server hosts no lab; create one with the first-run wizard')
    if (change && deps.building()) throw clientError('conflict', 'The lab is still being created; wait until the wizard has finished')
    const lab = openLab(labDir, { clock })
    try {
      return await work(lab)
    } finally {
      lab.close()
    }
  }
  const read = <T>(work: (lab: LabAuthority) => T | Promise<T>): Promise<T> => withLab(false, work)
  /** A list of a lab this server may not host: empty then, so every screen can ask. */
  const list = async <T>(work: (lab: LabAuthority) => T[]): Promise<T[]> => (deps.hostedServer() === undefined ? [] : read(work))
  const change = <T>(work: (lab: LabAuthority) => T | Promise<T>): Promise<T> => withLab(true, work)

  const instanceOf = (lab: LabAuthority) => lab.instance

  const members = (lab: LabAuthority): LabMemberDto[] => {
    const servers = lab.listSecurityServers()
    const groups = lab.listGlobalGroups()
    const serving = (id: string): string[] => servers.filter((s) => s.clients.some((c) => encodeId(c) === id)).map((s) => encodeId(s.id))
    const groupsOf = (id: string): string[] => groups.filter((g) => g.members.some((m) => encodeId(m) === id)).map((g) => g.id.groupCode)
    return lab.listMembers().map((m) => {
      const id = encodeId(m.id)
      return {
        id,
        memberClass: m.id.memberClass,
        memberCode: m.id.memberCode,
        name: m.name,
        subsystems: m.subsystems.map((sub) => ({
          id: encodeId(sub),
          code: sub.objectType === 'SUBSYSTEM' ? sub.subsystemCode : '',
          servers: serving(encodeId(sub)),
          globalGroups: groupsOf(encodeId(sub)),
        })),
        ownedServers: servers.filter((s) => s.id.memberClass === m.id.memberClass && s.id.memberCode === m.id.memberCode).map((s) => encodeId(s.id)),
        clientOf: serving(id),
        globalGroups: groupsOf(id),
      }
    })
  }

  const servers = (lab: LabAuthority): LabServerDto[] => {
    const names = new Map(lab.listMembers().map((m) => [encodeId(m.id), m.name]))
    const certs = new Map(lab.listCertificates().map((c) => [c.hash, c]))
    const here = deps.hostedServer()
    return lab.listSecurityServers().map((s) => {
      const owner = encodeId(memberId(s.id.xRoadInstance, s.id.memberClass, s.id.memberCode))
      return {
        id: encodeId(s.id),
        owner,
        ownerName: names.get(owner) ?? '',
        serverCode: s.id.serverCode,
        address: s.address,
        authCertificates: s.authCertHashes.map((hash) => {
          const c = certs.get(hash)
          return { hash, serial: c?.serial ?? null, subject: c?.subject ?? null, notAfter: c?.notAfter.toISOString() ?? null, revoked: c !== undefined && c.revokedAt !== null }
        }),
        clients: s.clients.map(encodeId),
        disabledClients: s.disabledClients.map(encodeId),
        thisServer: here !== undefined && encodeId(here) === encodeId(s.id),
      }
    })
  }

  const serverDto = (lab: LabAuthority, server: SecurityServerId): LabServerDto =>
    servers(lab).find((s) => s.id === encodeId(server)) as LabServerDto

  const certificates = (lab: LabAuthority): LabCertificateDto[] => {
    const registered = lab.listSecurityServers()
    const now = clock.now()
    return lab.listCertificates().map((c) => ({
      serial: c.serial,
      usage: c.usage,
      subject: c.subject,
      issuedAt: c.issuedAt,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      status: certificateStatus(c, now),
      revokedAt: c.revokedAt,
      hash: c.hash,
      registeredOn: registered.filter((s) => s.authCertHashes.includes(c.hash)).map((s) => encodeId(s.id)),
    }))
  }

  const globalGroups = (lab: LabAuthority): LabGlobalGroupDto[] =>
    lab.listGlobalGroups().map((g) => ({ id: encodeId(g.id), code: g.id.groupCode, description: g.description, members: g.members.map(encodeId) }))

  const groupDto = (lab: LabAuthority, code: string): LabGlobalGroupDto => globalGroups(lab).find((g) => g.code === code) as LabGlobalGroupDto

  const trustServices = async (lab: LabAuthority): Promise<LabTrustServicesDto> => {
    const s = lab.settings()
    const subject = (which: 'ca' | 'ocsp' | 'tsa'): string => lab.listCertificates().find((c) => c.usage === which)?.subject ?? ''
    return {
      instance: s.instance,
      services: await deps.services(),
      caSubject: subject('ca'),
      ocspSubject: subject('ocsp'),
      tsaSubject: subject('tsa'),
      confExpireSeconds: s.confExpireSeconds,
      ocspFreshnessSeconds: s.ocspFreshnessSeconds,
      timeStampingIntervalSeconds: s.timeStampingIntervalSeconds,
      memberClasses: lab.memberClasses(),
    }
  }

  const managementDto = (lab: LabAuthority): LabManagementDto => {
    const s = lab.settings()
    const provider = encodeId(lab.managementServiceProvider())
    const serving = lab.listSecurityServers().find((ss) => ss.clients.some((c) => encodeId(c) === provider))
    return {
      providerId: provider,
      managementSecurityServer: serving === undefined ? null : encodeId(serving.id),
      authCertRegUrl: s.authCertRegUrl,
      managementServiceUrl: s.managementServiceUrl,
      autoApproval: { authCertReg: s.autoApproveAuthCertReg, clientReg: s.autoApproveClientReg, ownerChange: s.autoApproveOwnerChange },
      counts: lab.managementRequestCounts(),
      requests: lab.listManagementRequests().map(managementRequestDto),
    }
  }

  return {
    members: () => list(members),
    servers: () => list(servers),
    certificates: () => list(certificates),
    globalGroups: () => list(globalGroups),
    trustServices: () => read(trustServices),

    anchor: () => read((lab) => {
      const content = readFileSync(lab.paths.anchor, 'utf8')
      const parsed = parseConfigurationAnchor(content)
      return {
        instance: parsed.instanceIdentifier,
        fileName: `configuration-anchor-${parsed.instanceIdentifier}.xml`,
        content,
        hash: parsed.hash,
        generatedAt: parsed.generatedAt?.toISOString() ?? null,
        downloadUrl: parsed.sources[0]?.downloadUrl ?? '',
      }
    }),

    addMember: (input) => change((lab) => {
      const value = validate(z.object({
        memberClass: identifierPart('memberClass', 'member class'),
        memberCode: identifierPart('memberCode', 'member code'),
        name: z.string().trim().min(1, 'give the member name').max(255),
        subsystemCode: identifierPart('subsystemCode', 'subsystem code').optional(),
      }).strict(), input, 'member')
      if (!lab.memberClasses().some((c) => c.code === value.memberClass)) {
        throw clientError('validation_failed', `Unknown member class '${value.memberClass}' (known: ${lab.memberClasses().map((c) => c.code).join(', ')})`, { detail: 'memberClass' })
      }
      const id = memberId(instanceOf(lab), value.memberClass, value.memberCode)
      if (members(lab).some((m) => m.id === encodeId(id))) throw clientError('conflict', `Member ${pathOf(id)} is already registered`, { detail: 'memberCode' })
      lab.addMember(id, value.name, value.subsystemCode)
      return members(lab).find((m) => m.id === encodeId(id)) as LabMemberDto
    }),

    addSubsystem: (input) => change((lab) => {
      const value = validate(z.object({ member: z.string(), subsystemCode: identifierPart('subsystemCode', 'subsystem code') }).strict(), input, 'subsystem')
      const member = parseMemberRef(value.member)
      lab.addSubsystem(subsystemId(member.xRoadInstance, member.memberClass, member.memberCode, value.subsystemCode))
      return members(lab).find((m) => m.id === encodeId(member)) as LabMemberDto
    }),

    deleteSubsystem: (input) => change((lab) => {
      const value = validate(refSchema('subsystem'), input, 'subsystem')
      lab.deleteSubsystem(parseSubsystemRef(value.subsystem))
    }),

    deleteMember: (input) => change((lab) => {
      const value = validate(refSchema('member'), input, 'member')
      lab.deleteMember(parseMemberRef(value.member))
    }),

    registerServer: (input) => change((lab) => {
      const value = validate(z.object({
        owner: z.string(),
        serverCode: identifierPart('serverCode', 'server code'),
        address: z.string().trim().min(1, 'give the address other servers reach it on').max(255),
        certificateSerial: serialSchema.shape.serial.optional(),
        certificate: z.object(fileInput).strict().optional(),
      }).strict().refine((v) => (v.certificateSerial === undefined) !== (v.certificate === undefined), {
        message: 'pick one of the certificates this lab issued or upload the certificate file', path: ['certificate'],
      }), input, 'security server')
      const owner = parseMemberRef(value.owner, 'owner')
      const der = value.certificate !== undefined ? fileBytes(value.certificate, 'certificate') : lab.certificate(value.certificateSerial as string).der
      const { server } = lab.addSecurityServer(owner, value.serverCode, value.address, der)
      return serverDto(lab, server)
    }),

    setServerAddress: (input) => change((lab) => {
      const value = validate(z.object({ server: z.string(), address: z.string().trim().min(1, 'give the address').max(255) }).strict(), input, 'address')
      const server = parseServerRef(value.server)
      lab.setSecurityServerAddress(server, value.address)
      return serverDto(lab, server)
    }),

    deleteServer: (input) => change((lab) => {
      const value = validate(refSchema('server'), input, 'server')
      lab.deleteSecurityServer(parseServerRef(value.server))
    }),

    deleteAuthCertificate: (input) => change((lab) => {
      const value = validate(z.object({ server: z.string(), hash: z.string().min(1).max(200) }).strict(), input, 'authentication certificate')
      const server = parseServerRef(value.server)
      lab.deleteAuthCertificate(server, value.hash)
      return serverDto(lab, server)
    }),

    addServerClient: (input) => change((lab) => {
      const value = validate(z.object({ server: z.string(), client: z.string() }).strict(), input, 'client')
      const server = parseServerRef(value.server)
      lab.addClient(server, parseClientRef(value.client))
      return serverDto(lab, server)
    }),

    removeServerClient: (input) => change((lab) => {
      const value = validate(z.object({ server: z.string(), client: z.string() }).strict(), input, 'client')
      const server = parseServerRef(value.server)
      lab.removeClient(server, parseClientRef(value.client))
      return serverDto(lab, server)
    }),

    inspectCsr: (input) => read(async (lab) => {
      const value = validate(csrSchema, input, 'CSR')
      const found = await lab.inspectCsr(fileBytes(value, 'content'), value.usage)
      return {
        usage: found.usage,
        usageFrom: found.usageFrom,
        requestedSubject: found.requestedSubject,
        subject: found.subject,
        keyAlgorithm: found.keyAlgorithm,
        member: found.member === undefined ? null : encodeId(found.member),
        serverCode: found.serverCode ?? null,
      }
    }),

    signCsr: (input) => change(async (lab) => {
      const value = validate(csrSchema, input, 'CSR')
      const bytes = fileBytes(value, 'content')
      const usage = value.usage ?? (await lab.inspectCsr(bytes)).usage
      return certificateFile(await lab.issueCertificate(bytes, usage))
    }),

    certificate: (input) => read((lab) => certificateFile(lab.certificate(validate(serialSchema, input, 'certificate').serial))),

    revokeCertificate: (input) => change((lab) => {
      const { serial } = validate(serialSchema, input, 'certificate')
      // The lab's own CA, OCSP and TSA certificates keep the lab working; only certificates issued to servers are revoked here.
      const usage = lab.certificate(serial).usage
      if (usage !== 'sign' && usage !== 'auth') {
        throw clientError('validation_failed', `The lab's own ${usage.toUpperCase()} certificate is not revoked here; only signing and authentication certificates of servers`, { detail: 'serial' })
      }
      const revoked = lab.revokeSerial(serial)
      return certificates(lab).find((c) => c.serial === revoked.serial) as LabCertificateDto
    }),

    addGlobalGroup: (input) => change((lab) => {
      const value = validate(z.object({ code: identifierPart('groupCode', 'group code'), description: z.string().trim().min(1, 'give a description').max(255) }).strict(), input, 'global group')
      if (lab.listGlobalGroups().some((g) => g.id.groupCode === value.code)) throw clientError('conflict', `Global group ${value.code} already exists`, { detail: 'code' })
      lab.addGlobalGroup(globalGroupId(instanceOf(lab), value.code), value.description)
      return groupDto(lab, value.code)
    }),

    deleteGlobalGroup: (input) => change((lab) => {
      lab.deleteGlobalGroup(validate(groupCodeSchema, input, 'global group').code)
    }),

    addGlobalGroupMember: (input) => change((lab) => {
      const value = validate(z.object({ code: identifierPart('groupCode', 'group code'), member: z.string() }).strict(), input, 'group member')
      const client = parseClientRef(value.member, 'member')
      lab.addGlobalGroupMember(value.code, client)
      return groupDto(lab, value.code)
    }),

    removeGlobalGroupMember: (input) => change((lab) => {
      const value = validate(z.object({ code: identifierPart('groupCode', 'group code'), member: z.string() }).strict(), input, 'group member')
      lab.removeGlobalGroupMember(value.code, parseClientRef(value.member, 'member'))
      return groupDto(lab, value.code)
    }),

    managementRequests: () => read(managementDto),

    approveManagementRequest: (input) => change((lab) => managementRequestDto(lab.approveManagementRequest(validate(requestIdSchema, input, 'management request').id))),

    declineManagementRequest: (input) => change((lab) => managementRequestDto(lab.declineManagementRequest(validate(requestIdSchema, input, 'management request').id))),

    setManagementAutoApproval: (input) => change((lab) => {
      const value = validate(z.object({ authCertReg: z.boolean().optional(), clientReg: z.boolean().optional(), ownerChange: z.boolean().optional() }).strict(), input, 'auto-approval')
      lab.setAutoApproval(value)
      return managementDto(lab)
    }),

    serveManagementServices: () => change((lab) => {
      const here = deps.hostedServer()
      if (here === undefined) throw clientError('not_initialized', 'This server hosts no lab')
      const serviceUrl = lab.settings().managementServiceUrl
      if (serviceUrl === null) throw clientError('conflict', 'The lab services have not run yet; start them on the Trust services tab first')
      const provider = lab.designateManagementSecurityServer(here)
      deps.configureManagementServices(provider, serviceUrl)
      return managementDto(lab)
    }),

    setConfExpiry: (input) => change(async (lab) => {
      const value = validate(z.object({
        seconds: z.number().int('whole seconds').min(CONF_EXPIRY.min, `at least ${CONF_EXPIRY.min} s (the lab signs a new configuration every 60 s)`).max(CONF_EXPIRY.max, 'at most a week'),
      }).strict(), input, 'configuration expiry')
      lab.setConfExpireSeconds(value.seconds)
      lab.regenerateConfiguration()
      return trustServices(lab)
    }),
  }
}
