import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import {
  memberId, securityServerId, subsystemId, validateIdentifierPart, type ClientId, type MemberId, type SecurityServerId,
} from '@shared/domain/identifiers'
import type {
  CreateLabInput, InitializationApi, LabApi, LabOperationDto, LabServicesDto, LabStatus, LabStepDto, LabStepId,
} from '@shared/admin-api/admin-api'
import { initLab, labPaths, openLab, startLabServer, type LabAuthority, type RunningLabServer } from '../lab'
import { SOFTWARE_TOKEN_ID } from '../signer'
import { SecurityServerError, clientError, logFailure, toSecurityServerError, writeFileAtomic, type Clock, type Logger } from '../platform'
import { validate } from './admin-validation'
import { HOSTED_LAB_FILE } from './hosted-lab'
import { pathOf, type DomainsOf } from './domain-support'

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

export function createLabAdmin(deps: LabAdminDeps): LabAdmin {
  const { domains, clock, logger } = deps
  const labDir = join(deps.dataDir, 'lab')
  const hostedFile = join(labDir, HOSTED_LAB_FILE)
  let services: RunningLabServer | undefined
  let starting: Promise<RunningLabServer> | undefined
  let servicesError: string | null = null
  let operation: Operation | undefined
  let closed = false

  const hosted = (): { instance: string } | undefined => {
    if (!existsSync(hostedFile) || !existsSync(labPaths(labDir).db)) return undefined
    return JSON.parse(readFileSync(hostedFile, 'utf8')) as { instance: string }
  }

  /** Starts the lab's services once per process: free ports the first time, the lab's stored ports afterwards (the anchor names them). */
  const ensureServices = async (firstStart: boolean): Promise<RunningLabServer> => {
    if (closed) throw new SecurityServerError('conflict', 'The admin runtime is closed')
    if (services !== undefined) return services
    starting ??= startLabServer(labDir, { ...(firstStart ? { ports: { ocsp: 0, tsa: 0, conf: 0 } } : {}), clock, logger: logger.child({ domain: 'lab' }) })
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

  const runStep = async <T>(op: Operation, id: LabStepId, work: () => Promise<T> | T, detail: (value: T) => string): Promise<T> => {
    const step = op.dto.steps.find((s) => s.id === id) as LabStepDto
    step.state = 'running'
    step.detail = null
    try {
      const value = await work()
      step.state = 'done'
      step.detail = detail(value)
      return value
    } catch (error) {
      step.state = 'failed'
      const failure = toSecurityServerError(error)
      step.detail = failure.message
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
    }, (r) => `Certification authority, OCSP responder, time-stamping authority and configuration signing keys of ${r.instance} are in ${labDir}.`)
    const running = await runStep(op, 'services', () => ensureServices(true),
      (s) => `OCSP responder ${s.urls.ocsp}, time-stamping ${s.urls.tsa}, configuration ${s.urls.internalconf}; they run while this server runs.`)
    const lab: LabAuthority = openLab(labDir, { clock })
    try {
      await runStep(op, 'member', () => lab.addMember(owner, value.memberName, subsystem.objectType === 'SUBSYSTEM' ? subsystem.subsystemCode : undefined),
        () => `${value.memberName} (${pathOf(owner)}) and its subsystem ${pathOf(subsystem)} are members of ${created.instance}.`)
      await runStep(op, 'token', async () => {
        let token = (await signer.listTokens()).find((t) => t.id === SOFTWARE_TOKEN_ID)
        const made = token === undefined
        if (token === undefined) token = await signer.initSoftwareToken(value.softwareTokenPin)
        if (!token.loggedIn) await signer.login(SOFTWARE_TOKEN_ID, value.softwareTokenPin)
        return made
      }, (made) => (made ? 'The software token was created with your PIN and is logged in.' : 'The existing software token is logged in.'))
      const keys = await runStep(op, 'keys', async () => ({
        auth: await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'auth', algorithm: 'ec-p256', label: `${value.serverCode} authentication (lab)` }),
        sign: await signer.generateKey({ tokenId: SOFTWARE_TOKEN_ID, usage: 'sign', algorithm: 'ec-p256', label: `${value.serverCode} signing (lab)` }),
      }), () => 'An authentication key (for connections to other servers) and a signing key (for messages), EC P-256, on the software token.')
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
      }, () => 'The lab CA signed both certificate requests; the certificates are imported and active.')
      op.signCertId = certs.sign.id
      await runStep(op, 'register', () => {
        const address = serverAddress()
        const registered = lab.addSecurityServer(owner, value.serverCode, address, certs.auth.der)
        lab.addClient(serverId, subsystem)
        running.regenerate()
        return { address, hash: registered.authCertHash }
      }, (r) => `Security server ${pathOf(serverId)} is registered at ${r.address} with its authentication certificate (SHA-256 ${r.hash}) and serves ${pathOf(subsystem)}.`)
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
    }, (instance) => `This server is a member of ${instance}: global configuration is downloaded and the OCSP status of its certificates is good.`)
    op.dto.state = 'done'
  }

  return {
    async status(): Promise<LabStatus> {
      const lab = hosted()
      if (lab !== undefined && services === undefined && !closed && operation?.dto.state !== 'running') {
        try {
          await ensureServices(false)
        } catch (error) {
          servicesError = toSecurityServerError(error).message
          logFailure(logger, error, {}, 'the lab services could not be started')
        }
      }
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
          steps: (Object.keys(STEP_TITLES) as LabStepId[]).map((id) => ({ id, title: STEP_TITLES[id], state: 'pending', detail: null })),
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
