import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Command } from 'commander'
import {
  describeIdentifier,
  globalGroupId,
  memberId,
  parseClientIdPath,
  parseSecurityServerIdPath,
  type MemberId,
} from '@shared/domain/identifiers'
import { HOSTED_LAB_FILE } from '../../admin'
import { clientError, closeDatabase, openDatabase, writeFileAtomic, type WritableDb } from '../../platform'
import { LAB_KEY_ALGORITHMS, initLab, labPaths, openLab, startLabServer, type LabAuthority, type LabKeyAlgorithm } from '../../lab'
import { printResult } from '../cli-support'
import { auditedChange, type CliChange } from './cli-audit'

/**
 * `gatehouse lab …`: create and run a lab trust domain (CA, OCSP, TSA, signed global configuration) and
 * register members, certificates, security servers, clients and global groups in it. Every change is recorded in an
 * audit log: the hosting server's (`DATA_DIR/serverconf.sqlite`) for a lab a server created in `DATA_DIR/lab`, the lab's
 * own database otherwise (`gatehouse audit verify --lab DIR`).
 */
export function registerLabCommand(program: Command): void {
  const lab = program.command('lab').description('a trust domain on this machine: CA, OCSP, TSA and global configuration')

  lab
    .command('init <dir>')
    .description('create a lab: root CA, OCSP and TSA certificates, configuration signing keys, anchors')
    .option('--instance <code>', 'X-Road instance identifier', 'LAB')
    .option('--key-algorithm <alg>', `key algorithm (${LAB_KEY_ALGORITHMS.join(' | ')})`, 'ec-p256')
    .option('--force', 'replace an existing lab in DIR')
    .option('--json', 'one JSON document on stdout')
    .action(async (dir: string, opts: { instance: string; keyAlgorithm: string; force?: boolean; json?: boolean }) => {
      if (!LAB_KEY_ALGORITHMS.includes(opts.keyAlgorithm as LabKeyAlgorithm)) {
        throw clientError('validation_failed', `--key-algorithm must be one of ${LAB_KEY_ALGORITHMS.join(', ')}`)
      }
      const input = { dir, instance: opts.instance, keyAlgorithm: opts.keyAlgorithm, force: opts.force === true }
      const created = await initLab(dir, { instance: opts.instance, keyAlgorithm: opts.keyAlgorithm as LabKeyAlgorithm, force: opts.force })
      const result = await withLabAudit(dir, (db) => auditedChange(db, { event: 'lab.init', object: opts.instance, input }, () => created, (r) => r))
      printResult(opts, result, () =>
        [
          `Lab ${result.instance} created in ${result.dir} (${result.keyAlgorithm})`,
          `  CA certificate:   ${result.caCertificate}`,
          `  internal anchor:  ${result.anchor}`,
          `  external anchor:  ${result.anchorExternal}`,
          `  anchor SHA-256:   ${result.anchorSha256}`,
        ].join('\n'),
      )
    })

  lab
    .command('serve <dir>')
    .description('serve the OCSP responder, TSA, configuration source and management service on 127.0.0.1 until SIGTERM')
    .option('--port-ocsp <n>', 'OCSP responder port (0 = any free port)', parsePort)
    .option('--port-tsa <n>', 'time-stamping authority port', parsePort)
    .option('--port-conf <n>', 'configuration source port (also takes the management requests of the management security server)', parsePort)
    .option('--port-management <n>', 'HTTPS port of the authentication certificate registration address (default: the one used last, else any free port)', parsePort)
    .option('--conf-expire <seconds>', 'configuration directory validity in seconds (default 600)', parsePositive)
    .action(async (dir: string, opts: { portOcsp?: number; portTsa?: number; portConf?: number; portManagement?: number; confExpire?: number }) => {
      const running = await startLabServer(dir, {
        ports: { ocsp: opts.portOcsp, tsa: opts.portTsa, conf: opts.portConf, management: opts.portManagement },
        confExpireSeconds: opts.confExpire,
      })
      process.stdout.write(`${JSON.stringify(running.urls)}\n`)
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGTERM', stop)
          process.off('SIGINT', stop)
          void running.close().then(resolve)
        }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
      })
    })

  const member = lab.command('member').description('lab members')
  member
    .command('add <dir> <id>')
    .description('register a member INSTANCE/CLASS/CODE (and optionally a subsystem of it)')
    .requiredOption('--name <name>', 'member name')
    .option('--subsystem <code>', 'register this subsystem of the member')
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, id: string, opts: { name: string; subsystem?: string; json?: boolean }) =>
      withLab(dir, { event: 'lab.addMember', object: id, input: { member: id, name: opts.name, subsystem: opts.subsystem } }, (authority) => {
        const result = authority.addMember(parseMember(id), opts.name, opts.subsystem)
        const shown = result.subsystem ?? result.member
        printResult(opts, { ok: true, id: describeIdentifier(shown) }, () => `Registered ${describeIdentifier(shown)}`)
      }),
    )

  lab
    .command('issue <dir>')
    .description('issue a certificate for a CSR (PEM or DER) per the EJBCA certificate profile')
    .requiredOption('--csr <file>', 'PKCS#10 request')
    .requiredOption('--usage <usage>', 'sign | auth')
    .requiredOption('--out <file>', 'where to write the certificate (PEM)')
    .option('--json', 'one JSON document on stdout')
    .action(async (dir: string, opts: { csr: string; usage: string; out: string; json?: boolean }) => {
      if (opts.usage !== 'sign' && opts.usage !== 'auth') throw clientError('validation_failed', '--usage must be sign or auth')
      const csr = readInput(opts.csr)
      await withLabAsync(dir, { event: 'lab.signCsr', object: opts.csr, input: { csr: opts.csr, usage: opts.usage, out: opts.out } }, async (authority) => {
        const issued = await authority.issueCertificate(csr, opts.usage as 'sign' | 'auth')
        writeFileAtomic(opts.out, issued.pem, 0o644)
        printResult(opts, { ok: true, serial: issued.serial, subject: issued.subject, usage: issued.usage, out: opts.out }, () =>
          `Issued ${issued.usage} certificate ${issued.serial} for ${issued.subject} → ${opts.out}`,
        )
      })
    })

  lab
    .command('revoke <dir>')
    .description('revoke a certificate the lab issued')
    .requiredOption('--cert <file>', 'certificate (PEM or DER)')
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, opts: { cert: string; json?: boolean }) =>
      withLab(dir, { event: 'lab.revokeCertificate', object: opts.cert, input: { cert: opts.cert } }, (authority) => {
        const result = authority.revoke(readInput(opts.cert))
        printResult(opts, { ok: true, ...result }, () =>
          result.alreadyRevoked ? `Certificate ${result.serial} was already revoked at ${result.revokedAt}` : `Revoked ${result.serial} (${result.subject})`,
        )
      }),
    )

  const server = lab.command('server').description('security servers')
  server
    .command('add <dir>')
    .description('register a security server with its authentication certificate')
    .requiredOption('--owner <id>', 'owner member INSTANCE/CLASS/CODE')
    .requiredOption('--code <code>', 'server code')
    .requiredOption('--address <host>', 'server address (host name or IP)')
    .requiredOption('--auth-cert <file>', 'authentication certificate issued by the lab')
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, opts: { owner: string; code: string; address: string; authCert: string; json?: boolean }) =>
      withLab(dir, { event: 'lab.registerServer', object: `${opts.owner}/${opts.code}`, input: { owner: opts.owner, code: opts.code, address: opts.address, authCert: opts.authCert } }, (authority) => {
        const result = authority.addSecurityServer(parseMember(opts.owner), opts.code, opts.address, readInput(opts.authCert))
        printResult(opts, { ok: true, server: describeIdentifier(result.server), authCertHash: result.authCertHash }, () =>
          `Registered ${describeIdentifier(result.server)} (authCertHash ${result.authCertHash})`,
        )
      }),
    )

  const client = lab.command('client').description('security server clients')
  client
    .command('add <dir>')
    .description('register a client (member or subsystem) on a security server')
    .requiredOption('--server <id>', 'INSTANCE/CLASS/CODE/SERVERCODE')
    .requiredOption('--client <id>', 'INSTANCE/CLASS/CODE[/SUBSYSTEM]')
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, opts: { server: string; client: string; json?: boolean }) =>
      withLab(dir, { event: 'lab.addServerClient', object: opts.server, input: { server: opts.server, client: opts.client } }, (authority) => {
        const serverId = parseSecurityServerIdPath(opts.server)
        const clientId = parseClientIdPath(opts.client)
        authority.addClient(serverId, clientId)
        printResult(opts, { ok: true, server: describeIdentifier(serverId), client: describeIdentifier(clientId) }, () =>
          `Registered ${describeIdentifier(clientId)} on ${describeIdentifier(serverId)}`,
        )
      }),
    )

  const group = lab.command('group').description('global groups')
  group
    .command('add <dir> <id>')
    .description('create a global group INSTANCE/GROUPCODE')
    .requiredOption('--description <text>', 'group description')
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, id: string, opts: { description: string; json?: boolean }) =>
      withLab(dir, { event: 'lab.addGlobalGroup', object: id, input: { group: id, description: opts.description } }, (authority) => {
        const [instance, code, ...rest] = id.split('/')
        if (instance === undefined || code === undefined || rest.length > 0) throw clientError('invalid_identifier', 'A global group is INSTANCE/GROUPCODE')
        const groupId = globalGroupId(instance, code)
        authority.addGlobalGroup(groupId, opts.description)
        printResult(opts, { ok: true, group: describeIdentifier(groupId) }, () => `Created ${describeIdentifier(groupId)}`)
      }),
    )
  group
    .command('member <dir> <group> <client>')
    .description('add a client INSTANCE/CLASS/CODE[/SUBSYSTEM] to global group GROUPCODE (or INSTANCE/GROUPCODE)')
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, groupArg: string, clientArg: string, opts: { json?: boolean }) =>
      withLab(dir, { event: 'lab.addGlobalGroupMember', object: groupArg, input: { group: groupArg, member: clientArg } }, (authority) => {
        const code = groupArg.includes('/') ? groupArg.split('/').slice(1).join('/') : groupArg
        const clientId = parseClientIdPath(clientArg)
        authority.addGlobalGroupMember(code, clientId)
        printResult(opts, { ok: true, group: code, client: describeIdentifier(clientId) }, () => `Added ${describeIdentifier(clientId)} to ${code}`)
      }),
    )

  const requests = lab.command('requests').description('management requests security servers sent to the lab (pr-mserv)')
  requests
    .command('list <dir>')
    .description('list the management requests, newest first')
    .option('--pending', 'only those waiting for approval')
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, opts: { pending?: boolean; json?: boolean }) => {
      const authority = openLab(dir)
      try {
        const rows = authority.listManagementRequests().filter((r) => opts.pending !== true || r.status === 'WAITING')
        const list = rows.map((r) => ({
          id: r.id, type: r.type, status: r.status, server: r.server, client: r.client, address: r.address, receivedAt: r.receivedAt, decidedBy: r.decidedBy,
        }))
        printResult(opts, { requests: list, autoApproval: autoApprovalOf(authority) }, () =>
          list.length === 0 ? 'No management requests' : list.map((r) => `${String(r.id).padStart(5)}  ${r.status.padEnd(8)}  ${r.type.padEnd(16)}  ${r.server}${r.client === null ? '' : `  ${r.client}`}${r.address === null ? '' : `  ${r.address}`}`).join('\n'),
        )
      } finally {
        authority.close()
      }
    })
  for (const [verb, event] of [['approve', 'lab.approveManagementRequest'], ['decline', 'lab.declineManagementRequest']] as const) {
    requests
      .command(`${verb} <dir> <id>`)
      .description(verb === 'approve' ? 'approve a held request: the registry changes and a new global configuration is signed' : 'decline a held request: nothing changes')
      .option('--json', 'one JSON document on stdout')
      .action((dir: string, id: string, opts: { json?: boolean }) =>
        withLab(dir, { event, object: id, input: { id } }, (authority) => {
          const requestId = Number(id)
          if (!Number.isSafeInteger(requestId) || requestId < 1) throw clientError('validation_failed', 'A request id is a positive whole number')
          const row = verb === 'approve' ? authority.approveManagementRequest(requestId) : authority.declineManagementRequest(requestId)
          printResult(opts, { ok: true, id: row.id, status: row.status }, () => `Management request ${row.id} ${row.status.toLowerCase()}`)
        }),
      )
  }
  requests
    .command('auto-approve <dir>')
    .description('X-Road central server auto-approval: authCertReg and clientReg approved when they arrive (on|off each)')
    .option('--auth-cert-reg <on|off>', 'authentication certificate registrations', parseOnOff)
    .option('--client-reg <on|off>', 'client registrations', parseOnOff)
    .option('--json', 'one JSON document on stdout')
    .action((dir: string, opts: { authCertReg?: boolean; clientReg?: boolean; json?: boolean }) =>
      withLab(dir, { event: 'lab.setManagementAutoApproval', object: dir, input: { authCertReg: opts.authCertReg, clientReg: opts.clientReg } }, (authority) => {
        authority.setAutoApproval({ authCertReg: opts.authCertReg, clientReg: opts.clientReg })
        const value = autoApprovalOf(authority)
        printResult(opts, { ok: true, autoApproval: value }, () => `Auto-approval: authCertReg ${value.authCertReg ? 'on' : 'off'}, clientReg ${value.clientReg ? 'on' : 'off'}`)
      }),
    )
}

function autoApprovalOf(lab: LabAuthority): { authCertReg: boolean; clientReg: boolean } {
  const settings = lab.settings()
  return { authCertReg: settings.autoApproveAuthCertReg, clientReg: settings.autoApproveClientReg }
}

function parseOnOff(value: string): boolean {
  if (value === 'on') return true
  if (value === 'off') return false
  throw clientError('validation_failed', `Expected on or off, not '${value.slice(0, 20)}'`)
}

/**
 * The audit log a lab's changes go to: the hosting server's for a lab a server created (`DATA_DIR/lab` with its
 * marker file), else the lab's own database.
 */
export function labAuditDatabase(dir: string): string {
  return existsSync(join(dir, HOSTED_LAB_FILE)) ? join(dirname(dir), 'serverconf.sqlite') : labPaths(dir).db
}

async function withLabAudit<T>(dir: string, work: (db: WritableDb) => Promise<T>): Promise<T> {
  const db = openDatabase(labAuditDatabase(dir))
  try {
    return await work(db)
  } finally {
    closeDatabase(db)
  }
}

async function withLab(dir: string, change: CliChange, work: (lab: LabAuthority) => void): Promise<void> {
  await withLabAsync(dir, change, async (lab) => work(lab))
}

async function withLabAsync(dir: string, change: CliChange, work: (lab: LabAuthority) => Promise<void>): Promise<void> {
  const authority = openLab(dir)
  try {
    await withLabAudit(dir, (db) => auditedChange(db, change, () => work(authority)))
  } finally {
    authority.close()
  }
}

function parseMember(value: string): MemberId {
  const id = parseClientIdPath(value)
  if (id.objectType !== 'MEMBER') throw clientError('invalid_identifier', `'${value}' is not a member identifier INSTANCE/CLASS/CODE`)
  return memberId(id.xRoadInstance, id.memberClass, id.memberCode)
}

function readInput(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file))
  } catch (cause) {
    throw clientError('config_file_not_found', `Cannot read ${file}: ${(cause as Error).message}`, { cause })
  }
}

function parsePort(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw clientError('validation_failed', `Invalid port '${value}'`)
  return n
}

function parsePositive(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw clientError('validation_failed', `Invalid number of seconds '${value}'`)
  return n
}
