import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { Command } from 'commander'
import {
  GlobalConf, parseConfigurationAnchor, parseSharedParameters, partsRootReader, readConfigurationDirectory,
  readStoredConfiguration, snapshotToJson, verificationReason, verifySignedDirectory, createGlobalConfService,
  type GlobalConfSnapshot,
} from '../../global-conf'
import { SecurityServerError, clientError, systemClock } from '../../platform'
import { CliExit, EXIT_FAILED, EXIT_USAGE, printResult } from '../cli-support'

/**
 * `gatehouse globalconf verify|show`: checks a signed configuration directory against an anchor
 * (PR-GCONF §2.3–2.5) and prints the read model of a stored or downloaded configuration.
 */
interface VerifyOptions {
  anchor: string
  partsRoot?: string
  at?: string
  trustedSharedParams?: string[]
  json?: boolean
}

function readInput(file: string, what: string): Buffer {
  if (!existsSync(file)) throw clientError('config_file_not_found', `${what} ${file} does not exist`)
  return readFileSync(file)
}

function verifyCommand(directoryFile: string, opts: VerifyOptions): void {
  let at = systemClock.now()
  if (opts.at !== undefined) {
    at = new Date(opts.at)
    if (Number.isNaN(at.getTime())) throw new CliExit(EXIT_USAGE, `gatehouse: --at '${opts.at}' is not an ISO-8601 time`)
  }
  const anchor = parseConfigurationAnchor(readInput(opts.anchor, 'Anchor'))
  const body = readInput(directoryFile, 'Directory file')
  // Key rotation: certificates listed in previously trusted shared parameters are trusted too (PR-GCONF §2.6).
  const external = anchor.sources.some((s) => s.downloadUrl.endsWith('/externalconf')) || basename(directoryFile) === 'externalconf'
  const rotation = (opts.trustedSharedParams ?? []).flatMap((f) => parseSharedParameters(readInput(f, 'Shared parameters')).sources
    .flatMap((s) => (external ? s.externalVerificationCerts : s.internalVerificationCerts)))
  try {
    const result = verifySignedDirectory(body, {
      verificationCerts: [...anchor.sources.flatMap((s) => s.verificationCerts), ...rotation],
      now: at,
      ...(opts.partsRoot ? { readPart: partsRootReader(opts.partsRoot) } : {}),
    })
    const value = {
      valid: true,
      instance: anchor.instanceIdentifier,
      version: result.version,
      expires: result.expiresAt.toISOString(),
      parts: result.parts.map((p) => ({ contentIdentifier: p.contentIdentifier, instance: p.instance, location: p.contentLocation })),
      partsChecked: opts.partsRoot !== undefined,
    }
    printResult(opts, value, () => [
      `valid: configuration directory of ${anchor.instanceIdentifier}, version ${result.version}, expires ${value.expires}`,
      ...value.parts.map((p) => `  ${p.contentIdentifier}${p.instance ? ` (${p.instance})` : ''} ${p.location}`),
      opts.partsRoot ? '  part hashes checked' : '  part hashes not checked (no --parts-root)',
    ].join('\n'))
  } catch (error) {
    if (!(error instanceof SecurityServerError)) throw error
    const reason = verificationReason(error)
    printResult(opts, { valid: false, reason, message: error.message }, () => `invalid: ${error.message} [${reason}]`)
    throw new CliExit(EXIT_FAILED)
  }
}

async function loadForShow(target: string, anchorFile: string | undefined): Promise<GlobalConfSnapshot> {
  if (/^https?:\/\//.test(target)) {
    if (anchorFile === undefined) throw new CliExit(EXIT_USAGE, 'gatehouse: showing a URL needs --anchor to verify what is downloaded')
    const anchor = parseConfigurationAnchor(readInput(anchorFile, 'Anchor'))
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-globalconf-'))
    try {
      const service = createGlobalConfService({
        dir,
        anchor: { ...anchor, sources: anchor.sources.map((s) => ({ ...s, downloadUrl: target })) },
      })
      const conf = await service.refresh()
      if (conf === undefined) throw service.lastError()
      return conf.snapshot
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  if (!existsSync(target) || !statSync(target).isDirectory()) throw clientError('config_file_not_found', `${target} is not a directory`)
  return readStoredConfiguration(target) ?? readConfigurationDirectory(target)
}

function describeSnapshot(snapshot: GlobalConfSnapshot): string {
  const conf = new GlobalConf(snapshot)
  const lines = [`own instance: ${snapshot.instanceIdentifier}`, `expires: ${snapshot.expiresAt?.toISOString() ?? 'not stated'}`]
  for (const inst of snapshot.instances.values()) {
    const s = inst.shared
    lines.push(`instance ${s.instanceIdentifier} (shared parameters V${s.version}${inst.private ? ', private parameters' : ''})`)
    lines.push(`  members: ${s.members.length}, subsystems: ${s.members.reduce((n, m) => n + m.subsystems.length, 0)}`)
    for (const server of s.securityServers) {
      lines.push(`  server ${server.owner.memberClass}/${server.owner.memberCode}/${server.serverCode} at ${server.address ?? '(no address)'}${server.inMaintenanceMode ? ' [maintenance]' : ''}`)
    }
    for (const ca of s.approvedCas) lines.push(`  CA ${ca.name}: ${ca.topCa.ocsp.map((o) => o.url).join(', ') || 'no OCSP'}`)
    for (const tsa of s.approvedTsas) lines.push(`  TSA ${tsa.name}: ${tsa.url}`)
    for (const group of s.globalGroups) lines.push(`  group ${group.id.groupCode}: ${group.members.length} members`)
  }
  lines.push(`ocspFreshnessSeconds: ${conf.ocspFreshnessSeconds}`)
  return lines.join('\n')
}

export function registerGlobalConfCommand(program: Command): void {
  const group = program.command('globalconf').description('verify and inspect X-Road global configuration')
  group
    .command('verify')
    .description('verify a signed configuration directory against an anchor')
    .argument('<directory-file>', 'the directory as served at /internalconf or /externalconf')
    .requiredOption('--anchor <file>', 'configuration anchor XML')
    .option('--parts-root <dir>', 'local copy of the download host root, to check the part hashes')
    .option('--at <iso-time>', 'verify as of this time (default: now)')
    .option('--trusted-shared-params <file...>', 'previously trusted shared parameters (key rotation)')
    .option('--data-dir <dir>', 'data directory (unused; accepted for consistency)')
    .option('--json', 'print one JSON document')
    .action((file: string, opts: VerifyOptions) => verifyCommand(file, opts))
  group
    .command('show')
    .description('print the read model of a stored configuration directory or a configuration URL')
    .argument('<dir-or-url>', 'configuration directory, or a download URL (with --anchor)')
    .option('--anchor <file>', 'anchor to verify a downloaded configuration')
    .option('--data-dir <dir>', 'data directory (unused; accepted for consistency)')
    .option('--json', 'print one JSON document')
    .action(async (target: string, opts: { anchor?: string; json?: boolean }) => {
      const snapshot = await loadForShow(target, opts.anchor)
      printResult(opts, snapshotToJson(snapshot), () => describeSnapshot(snapshot))
    })
}
