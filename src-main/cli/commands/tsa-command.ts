import type { Command } from 'commander'
import { GlobalConf, readStoredConfiguration, type ApprovedTsa } from '../../global-conf'
import { clientError } from '../../platform'
import { dataDirLayout } from '../../server'
import { printResult } from '../cli-support'
import { readServerConf, withCommonOptions, withServerConf, type DataDirOptions } from './server-conf-db'

/**
 * `gatehouse tsa list|select NAME…|clear`: the time-stamping services this server uses, chosen among the TSAs that
 * global configuration approves and tried in the chosen order (ug-ss §10.2). Without a selection every approved
 * TSA is used in configuration order. The running server reads the selection at each time-stamping round.
 */
function approvedTsas(dataDir: string): ApprovedTsa[] | undefined {
  const snapshot = readStoredConfiguration(dataDirLayout(dataDir).globalConfDir)
  return snapshot === undefined ? undefined : new GlobalConf(snapshot).getTsas()
}

interface TsaRow {
  name: string
  url: string | null
  costType: string | null
  approved: boolean
  /** 1-based position in the selection; null when not selected. */
  selected: number | null
}

function rows(approved: readonly ApprovedTsa[], selection: readonly string[]): TsaRow[] {
  const listed: TsaRow[] = approved.map((t) => ({
    name: t.name, url: t.url, costType: t.costType ?? null, approved: true,
    selected: selection.includes(t.name) ? selection.indexOf(t.name) + 1 : null,
  }))
  // A selected TSA that global configuration no longer approves is shown, and skipped by time-stamping.
  for (const [i, name] of selection.entries()) {
    if (!approved.some((t) => t.name === name)) listed.push({ name, url: null, costType: null, approved: false, selected: i + 1 })
  }
  return listed
}

function describe(list: readonly TsaRow[], selection: readonly string[]): string {
  const lines = list.map((r) => `${r.selected === null ? '  ' : `${r.selected}.`} ${r.name}  ${r.url ?? '(not approved in global configuration)'}`)
  lines.push(selection.length === 0 ? 'No selection: every approved TSA is used in global-configuration order.' : `Selected: ${selection.join(', ')}`)
  return lines.join('\n')
}

function listCommand(opts: DataDirOptions): void {
  const selection = readServerConf(opts.dataDir, (conf) => conf.timestampingServices())
  const approved = approvedTsas(opts.dataDir) ?? []
  const list = rows(approved, selection)
  printResult(opts, { selected: selection, tsas: list }, () => describe(list, selection))
}

function selectCommand(names: string[], opts: DataDirOptions): void {
  const selection = withServerConf(opts.dataDir, 'tsa.select', { names }, ({ conf }) => {
    const approved = approvedTsas(opts.dataDir)
    if (approved === undefined) throw clientError('not_found', 'No global configuration has been downloaded yet; the approved TSAs are unknown')
    const unknown = names.filter((n) => !approved.some((t) => t.name === n.trim()))
    if (unknown.length > 0) {
      throw clientError('not_found', `Not an approved TSA in global configuration: ${unknown.join(', ')}`, { detail: approved.map((t) => t.name).join(', ') })
    }
    return conf.selectTimestampingServices(names)
  })
  printResult(opts, { ok: true, selected: selection }, () => `Time-stamping services: ${selection.join(', ')}`)
}

function clearCommand(opts: DataDirOptions): void {
  withServerConf(opts.dataDir, 'tsa.select', { names: [] }, ({ conf }) => conf.selectTimestampingServices([]))
  printResult(opts, { ok: true, selected: [] }, () => 'Time-stamping services: every approved TSA in global-configuration order')
}

export function registerTsaCommand(program: Command): void {
  const tsa = program.command('tsa').description('time-stamping services used by the message log')
  withCommonOptions(tsa.command('list').description('approved TSAs and the selection')).action(listCommand)
  withCommonOptions(tsa.command('select').description('use these approved TSAs, tried in the order given').argument('<name...>', 'TSA names'))
    .action(selectCommand)
  withCommonOptions(tsa.command('clear').description('use every approved TSA in global-configuration order')).action(clearCommand)
}
