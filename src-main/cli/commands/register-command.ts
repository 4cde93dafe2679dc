import { readFileSync, writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { encodeIdentifier, formatIdPath, memberOf, type ClientId } from '@shared/domain/identifiers'
import { GlobalConf, readStoredConfiguration } from '../../global-conf'
import {
  authCertSubject, clientSubject, createManagementRequests, type ManagementCallOptions, type ManagementOutcome, type ManagementRequestRecord,
  type ManagementRequests,
} from '../../management'
import { clientError, closeDatabase } from '../../platform'
import { dataDirLayout, loadServerConfig } from '../../server'
import { listManagementRequestRows } from '../../server-conf'
import { createSigner, importXroadKeyConf, SOFTWARE_TOKEN_ID, type Signer } from '../../signer'
import { CliExit, EXIT_USAGE, printResult } from '../cli-support'
import { auditedChange } from './cli-audit'
import { openServerConf, parseClientArg } from './server-conf-db'
import { readPin } from './token-command'

/**
 * `gatehouse register …`: the management requests of pr-mserv sent to the instance's central server, as X-Road's
 * admin UI sends them (ug-ss §4, §5, §10): `client`, `delete-client`, `disable-client`, `enable-client`,
 * `rename-client`, `owner`, `address`, `maintenance`, `auth-cert`, `delete-auth-cert`, and `requests` (what was sent).
 * Every request is sent once (no retry); `--dry-run --out FILE` writes the exact HTTP body that would be sent (the SOAP
 * envelope, or the multipart with its signatures) and sends nothing. Requests other than `auth-cert` go through this
 * server's client proxy, which must be running (`--client-proxy URL`, else the bootstrap configuration's port on
 * 127.0.0.1). The signing token's PIN comes from `--pin` or stdin.
 *
 * `gatehouse import xroad-keyconf`: an X-Road server's software token (keyconf.xml + .p12 files) into a token here.
 */
interface RegisterOptions {
  dataDir: string
  json?: boolean
  pin?: string
  clientProxy?: string
  dryRun?: boolean
  out?: string
}

function common(command: Command): Command {
  return command.requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
    .option('--pin <pin>', 'PIN of the token with the signing key (else read from stdin)')
    .option('--client-proxy <url>', "this server's client proxy (default http://127.0.0.1:<clientProxyHttpPort>/)")
    .option('--dry-run', 'build and sign the message, do not send it')
    .option('--out <file>', 'with --dry-run: write the exact HTTP body to FILE')
}

/** Tokens whose PIN the request needs: the member's signing keys, and the auth key for authCertReg. */
function tokensFor(signer: Signer, member: ClientId | undefined, authCertId?: string): string[] {
  const wanted = member === undefined ? undefined : encodeIdentifier(memberOf(member))
  const keyIds = new Set<string>()
  for (const cert of signer.listCertificates()) {
    if (cert.id === authCertId) keyIds.add(cert.keyId)
    if (wanted !== undefined && cert.state === 'active' && cert.memberId !== undefined && encodeIdentifier(memberOf(cert.memberId)) === wanted) keyIds.add(cert.keyId)
  }
  return [...new Set(signer.listKeys().filter((k) => keyIds.has(k.id)).map((k) => k.tokenId))]
}

function defaultClientProxy(dataDir: string): string | undefined {
  try {
    const config = loadServerConfig(dataDir)
    return config.internal.clientProxyHttpPort === null ? undefined : `http://127.0.0.1:${config.internal.clientProxyHttpPort}/`
  } catch {
    return 'http://127.0.0.1:8080/'
  }
}

async function runRequest(
  opts: RegisterOptions, event: string, input: Record<string, unknown>,
  signerOf: (ctx: { serverOwner: ClientId }) => { member?: ClientId; authCertId?: string } | undefined,
  work: (requests: ManagementRequests, options: ManagementCallOptions) => Promise<ManagementOutcome>,
  about?: ClientId,
): Promise<void> {
  if (opts.out !== undefined && opts.dryRun !== true) throw new CliExit(EXIT_USAGE, 'gatehouse: --out goes with --dry-run')
  const layout = dataDirLayout(opts.dataDir)
  const session = openServerConf(opts.dataDir)
  const signer = createSigner({ db: session.db, dataDir: layout.root })
  try {
    const identity = session.conf.identity()
    if (identity === undefined) throw clientError('not_initialized', 'The security server is not initialized')
    const needs = signerOf({ serverOwner: identity.owner })
    const tokens = needs === undefined ? [] : tokensFor(signer, needs.member, needs.authCertId)
    if (tokens.length > 0) {
      const pin = await readPin(opts.pin)
      for (const token of tokens) await signer.login(token, pin)
    }
    const snapshot = readStoredConfiguration(layout.globalConfDir)
    const conf = snapshot === undefined ? undefined : new GlobalConf(snapshot)
    const proxy = opts.clientProxy ?? defaultClientProxy(opts.dataDir)
    const requests = createManagementRequests({
      db: session.db, serverConf: session.conf, signer, globalConf: () => conf, serverId: () => identity.serverId, clientProxyUrl: () => proxy,
    })
    const options: ManagementCallOptions = { ...(opts.dryRun === true ? { dryRun: true } : {}), user: 'cli' }
    const outcome = opts.dryRun === true
      ? await work(requests, options)
      : await auditedChange(session.db, { event, object: null, input }, () => work(requests, options), (o) => ({ requestId: o.dryRun ? null : o.requestId ?? null }))
    const p = outcome.prepared
    if (outcome.dryRun && opts.out !== undefined) writeFileSync(opts.out, p.encoded.body)
    const client = about === undefined ? undefined : session.conf.findClient(about)
    const json = {
      ok: true, dryRun: outcome.dryRun, service: p.message.body.service, via: p.via, target: p.target, messageId: p.message.header.id,
      contentType: p.encoded.contentType,
      ...(outcome.dryRun ? { out: opts.out ?? null, bytes: p.encoded.body.byteLength } : { requestId: outcome.requestId ?? null, request: recordJson(outcome.record) }),
      ...(client === undefined ? {} : { client: { id: formatIdPath(client.id), objectType: client.id.objectType, state: client.state } }),
    }
    printResult(opts, json, () => [
      outcome.dryRun
        ? `${p.message.body.service}: not sent (dry run); ${p.encoded.body.byteLength} bytes for ${p.target}${opts.out === undefined ? '' : `, written to ${opts.out}`}`
        : `${p.message.body.service} sent to ${p.target}; the central server's request id is ${outcome.requestId ?? '(none given)'}`,
      ...(client === undefined ? [] : [`client ${formatIdPath(client.id)}  ${client.state}`]),
      ...(outcome.dryRun ? [] : ['the state follows when global configuration shows the change']),
    ].join('\n'))
  } finally {
    await signer.close()
    closeDatabase(session.db)
  }
}

function recordJson(r: ManagementRequestRecord) {
  return { id: r.id, service: r.service, subject: r.subject, detail: r.detail ?? null, requestId: r.requestId ?? null, status: r.status, sentAt: r.sentAt, settledAt: r.settledAt ?? null }
}

/**
 * clientReg (`register`) or clientDeletion (`unregister`) for `--client`: `gatehouse register client|delete-client` and
 * `gatehouse client register|unregister` are this one command. The answer carries the request id and the client's new
 * state (REGISTRATION_IN_PROGRESS, DELETION_IN_PROGRESS) until global configuration confirms the change.
 */
export function clientRequestCommand(command: Command, kind: 'register' | 'unregister'): Command {
  const withClient = common(command).requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
  if (kind === 'unregister') {
    return withClient.action((opts: RegisterOptions & { client: string }) => {
      const id = parseClientArg(opts.client, '--client')
      return runRequest(opts, 'management.unregisterClient', { client: formatIdPath(id) }, () => undefined, (r, o) => r.unregisterClient(id, o), id)
    })
  }
  return withClient.option('--subsystem-name <name>', 'the subsystem name to register')
    .action((opts: RegisterOptions & { client: string; subsystemName?: string }) => {
      const id = parseClientArg(opts.client, '--client')
      return runRequest(opts, 'management.registerClient', { client: formatIdPath(id) }, () => ({ member: id }),
        (r, o) => r.registerClient(id, { ...o, ...(opts.subsystemName === undefined ? {} : { subsystemName: opts.subsystemName }) }), id)
    })
}

export function registerRegisterCommand(program: Command): void {
  const register = program.command('register').description('management requests to the central server (pr-mserv)')

  clientRequestCommand(register.command('client').description('clientReg: register a client (SAVED → REGISTRATION_IN_PROGRESS)'), 'register')
  clientRequestCommand(register.command('delete-client').description('clientDeletion: unregister a client (→ DELETION_IN_PROGRESS)'), 'unregister')
  for (const [verb, event, what] of [['disable-client', 'disableClient', 'clientDisable: disable a registered client'], ['enable-client', 'enableClient', 'clientEnable: enable a disabled client']] as const) {
    common(register.command(verb).description(what))
      .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM')
      .action((opts: RegisterOptions & { client: string }) => {
        const id = parseClientArg(opts.client, '--client')
        return runRequest(opts, `management.${event}`, { client: formatIdPath(id) }, () => ({ member: id }), (r, o) => event === 'disableClient' ? r.disableClient(id, o) : r.enableClient(id, o))
      })
  }
  common(register.command('rename-client').description('clientRename: give a registered subsystem a new name'))
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE/SUBSYSTEM').requiredOption('--name <name>', 'the new subsystem name')
    .action((opts: RegisterOptions & { client: string; name: string }) => {
      const id = parseClientArg(opts.client, '--client')
      return runRequest(opts, 'management.renameClient', { client: formatIdPath(id), subsystemName: opts.name }, () => ({ member: id }), (r, o) => r.renameClient(id, opts.name, o))
    })
  common(register.command('owner').description('ownerChange: make a registered member client the owner of this server'))
    .requiredOption('--member <id>', 'INSTANCE/CLASS/CODE')
    .action((opts: RegisterOptions & { member: string }) => {
      const id = parseClientArg(opts.member, '--member')
      if (id.objectType !== 'MEMBER') throw new CliExit(EXIT_USAGE, 'gatehouse: --member must be a member (INSTANCE/CLASS/CODE)')
      return runRequest(opts, 'management.changeOwner', { member: formatIdPath(id) }, () => ({ member: id }), (r, o) => r.changeOwner(id, o))
    })
  common(register.command('address').description("addressChange: this server's new address"))
    .requiredOption('--address <host>', 'host name or IP address')
    .action((opts: RegisterOptions & { address: string }) =>
      runRequest(opts, 'management.changeAddress', { address: opts.address }, ({ serverOwner }) => ({ member: serverOwner }), (r, o) => r.changeAddress(opts.address, o)))
  common(register.command('maintenance').description('maintenanceModeEnable / maintenanceModeDisable'))
    .option('--on', 'enable maintenance mode').option('--off', 'disable maintenance mode').option('--message <text>', 'shown to clients while on')
    .action((opts: RegisterOptions & { on?: boolean; off?: boolean; message?: string }) => {
      if ((opts.on === true) === (opts.off === true)) throw new CliExit(EXIT_USAGE, 'gatehouse: give --on or --off')
      return runRequest(opts, opts.on === true ? 'management.enableMaintenanceMode' : 'management.disableMaintenanceMode', { on: opts.on === true, message: opts.message ?? null },
        ({ serverOwner }) => ({ member: serverOwner }), (r, o) => opts.on === true ? r.enableMaintenanceMode(opts.message, o) : r.disableMaintenanceMode(o))
    })
  common(register.command('auth-cert').description('authCertReg: register an authentication certificate (HTTPS to the central server)'))
    .requiredOption('--certificate <id>', 'certificate id (gatehouse cert list)').requiredOption('--address <host>', "this server's address")
    .action((opts: RegisterOptions & { certificate: string; address: string }) =>
      runRequest(opts, 'management.registerAuthCertificate', { certificate: opts.certificate, address: opts.address },
        ({ serverOwner }) => ({ member: serverOwner, authCertId: opts.certificate }), (r, o) => r.registerAuthCertificate(opts.certificate, opts.address, o)))
  common(register.command('delete-auth-cert').description('authCertDeletion: unregister an authentication certificate'))
    .requiredOption('--certificate <id>', 'certificate id')
    .action((opts: RegisterOptions & { certificate: string }) =>
      runRequest(opts, 'management.unregisterAuthCertificate', { certificate: opts.certificate }, () => undefined, (r, o) => r.unregisterAuthCertificate(opts.certificate, o)))

  register.command('requests').description('management requests sent from this server, newest first')
    .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document').option('--open', 'only those global configuration has not confirmed yet')
    .option('--client <id>', 'only those about this client').option('--certificate-file <file>', 'only those about this authentication certificate (DER or PEM)')
    .action((opts: { dataDir: string; json?: boolean; open?: boolean; client?: string; certificateFile?: string }) => {
      const session = openServerConf(opts.dataDir)
      try {
        const subject = opts.client !== undefined ? clientSubject(parseClientArg(opts.client, '--client'))
          : opts.certificateFile !== undefined ? authCertSubject(derOf(readFileSync(opts.certificateFile))) : undefined
        const rows = listManagementRequestRows(session.db, { ...(subject === undefined ? {} : { subject }), ...(opts.open === true ? { openOnly: true } : {}) })
        const requests = rows.map((r) => ({
          id: r.id, service: r.service, subject: r.subject, detail: r.detail, requestId: r.request_id, status: r.status, sentAt: r.sent_at, settledAt: r.settled_at,
        }))
        printResult(opts, { ok: true, requests }, () => requests.length === 0 ? 'no management requests' : requests
          .map((r) => `${r.sentAt}  ${r.service.padEnd(22)} ${String(r.requestId ?? '-').padStart(6)}  ${r.status.padEnd(10)} ${r.subject}${r.detail === null ? '' : `  (${r.detail})`}`).join('\n'))
      } finally {
        closeDatabase(session.db)
      }
    })
}

function derOf(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1')
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text)
  return m === null ? bytes : Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64')
}

export function registerImportCommand(program: Command): void {
  const importCommand = program.command('import').description('migration from an X-Road security server')
  importCommand.command('xroad-keyconf').description("an X-Road software token (keyconf.xml + .p12 files) into a token here; says what cannot be migrated")
    .requiredOption('--data-dir <dir>', 'data directory').option('--json', 'print one JSON document')
    .requiredOption('--keyconf <file>', "X-Road's /etc/xroad/signer/keyconf.xml")
    .requiredOption('--token-dir <dir>', "X-Road's /etc/xroad/signer/softtoken (the {keyId}.p12 files)")
    .option('--xroad-pin <pin>', "the X-Road software token's PIN (the .p12 password; else read from stdin)")
    .option('--token <id>', 'our token the keys go to', SOFTWARE_TOKEN_ID)
    .option('--pin <pin>', "our token's PIN (default: the X-Road PIN)")
    .action(async (opts: { dataDir: string; json?: boolean; keyconf: string; tokenDir: string; xroadPin?: string; token: string; pin?: string }) => {
      const xroadPin = await readPin(opts.xroadPin, 'X-Road token PIN: ')
      const layout = dataDirLayout(opts.dataDir)
      const session = openServerConf(opts.dataDir)
      const signer = createSigner({ db: session.db, dataDir: layout.root })
      try {
        await signer.login(opts.token, opts.pin ?? xroadPin)
        const snapshot = readStoredConfiguration(layout.globalConfDir)
        const cas = snapshot === undefined ? undefined : new GlobalConf(snapshot).getAllCaCerts()
        const keyconf = readFileSync(opts.keyconf)
        const report = await auditedChange(session.db, { event: 'keys.importXroadKeyconf', object: opts.token, input: { keyconf: opts.keyconf, tokenDir: opts.tokenDir, token: opts.token } },
          () => importXroadKeyConf(signer, { keyconf, tokenDir: opts.tokenDir, xroadPin, tokenId: opts.token, ...(cas === undefined ? {} : { approvedCaCertificates: cas }) }),
          (r) => ({ keys: r.imported.map((i) => i.key.id) }))
        const json = {
          ok: true,
          imported: report.imported.map((i) => ({ keyId: i.key.id, usage: i.key.usage, algorithm: i.key.algorithm, label: i.key.label, certificates: i.certificates })),
          notMigrated: report.notMigrated,
        }
        printResult(opts, json, () => [
          ...report.imported.map((i) => `imported ${i.key.usage} key ${i.key.id} (${i.key.label}) with ${i.certificates.length} certificate(s): ${i.certificates.map((c) => c.state).join(', ') || '-'}`),
          ...report.notMigrated.map((n) => `not migrated: ${n.what}: ${n.reason}`),
        ].join('\n'))
      } finally {
        await signer.close()
        closeDatabase(session.db)
      }
    })
}
