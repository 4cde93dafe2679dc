import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import type { TestProject } from 'vitest/node'
import type { SkipRecord } from './requirements'

/**
 * Global setup of `npm test` (vitest.config.mts):
 * 1. builds the admin GUI (out/renderer) when e2e suites are among the selected files and the build is missing or
 *    older than its sources, so the GUI suites never skip for want of a build;
 * 2. gives the run a skip log that suites append to (tests/support/requirements.ts) and, at the end, prints which
 *    suites skipped, why, and what would enable them.
 */
const ROOT = resolve(__dirname, '../..')
const RENDERER_INDEX = join(ROOT, 'out/renderer/index.html')
const GUI_SOURCES = ['src-renderer', 'src-shared', 'electron.vite.config.ts']

export default async function setup(project: TestProject): Promise<() => void> {
  await buildGuiIfNeeded(project)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-skips-'))
  const log = join(dir, 'skips.jsonl')
  writeFileSync(log, '')
  project.provide('gatehouseSkipLog', log)
  return () => {
    try {
      process.stdout.write(skipTable(readSkipLog(log)))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * Builds out/renderer only when an e2e suite will run: the build is quick (2–4 s alone, ~20 s when the machine is
 * busy), but a unit-test run should not pay for it, and a child vitest (tests/hygiene) must not rewrite out/ while
 * the parent's GUI suites read it. The selected files are those matching the command-line filters; vitest keeps
 * them in `filenamePattern`, which its public API does not expose: if that field goes away, every run counts as
 * selecting everything and the build still happens only when out/ is stale.
 */
async function buildGuiIfNeeded(project: TestProject): Promise<void> {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern
  const { testFiles } = await project.globTestFiles(Array.isArray(filters) ? filters : [])
  if (!testFiles.some((file) => file.endsWith('.e2e.test.ts'))) return
  const why = guiBuildStaleness()
  if (why === undefined) return
  const started = Date.now()
  process.stdout.write(`GUI build for the e2e suites: ${why}; building out/renderer…`)
  const { code, output } = await run(process.execPath, [join(__dirname, 'build-renderer.mjs'), ROOT])
  if (code !== 0) {
    process.stdout.write(' failed\n')
    throw new Error(`building the GUI (tests/support/build-renderer.mjs) failed with exit code ${code}:\n${output}`)
  }
  process.stdout.write(` done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
}

/** Why out/renderer must be rebuilt, or undefined when it is newer than every GUI source. */
export function guiBuildStaleness(): string | undefined {
  if (!existsSync(RENDERER_INDEX)) return 'out/renderer/index.html is missing'
  const built = statSync(RENDERER_INDEX).mtimeMs
  const newer = GUI_SOURCES.map((p) => newestFile(join(ROOT, p))).find((f) => f !== undefined && f.mtimeMs > built)
  return newer === undefined ? undefined : `out/renderer is older than ${relative(ROOT, newer.path)}`
}

function newestFile(path: string): { path: string; mtimeMs: number } | undefined {
  if (!existsSync(path)) return undefined
  const stat = statSync(path)
  if (!stat.isDirectory()) return { path, mtimeMs: stat.mtimeMs }
  let newest: { path: string; mtimeMs: number } | undefined
  for (const entry of readdirSync(path)) {
    const candidate = newestFile(join(path, entry))
    if (candidate !== undefined && (newest === undefined || candidate.mtimeMs > newest.mtimeMs)) newest = candidate
  }
  return newest
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolvePromise({ code, output }))
  })
}

export function readSkipLog(log: string): SkipRecord[] {
  if (!existsSync(log)) return []
  return readFileSync(log, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as SkipRecord)
}

/**
 * The skips of a run as a short table: one row per reason with what enables it and the files it affects, then one
 * line naming the Debian packages for all of them; empty when nothing skipped for want of something.
 */
export function skipTable(records: readonly SkipRecord[]): string {
  if (records.length === 0) return ''
  const groups = new Map<string, SkipRecord[]>()
  for (const record of records) {
    const key = record.reasons.join('; ')
    groups.set(key, [...(groups.get(key) ?? []), record])
  }
  const allFiles = new Set(records.map((r) => r.file))
  const lines = ['', ` Skipped  ${count(records.length, 'suite or test', 'suites or tests')} in ${count(allFiles.size, 'file', 'files')}, for want of:`]
  for (const [reason, rs] of groups) {
    const files = [...new Set(rs.map((r) => r.file))].sort()
    const packages = [...new Set(rs.flatMap((r) => r.packages))]
    const enable = [...(packages.length > 0 ? [`apt-get install ${packages.join(' ')}`] : []), ...new Set(rs.flatMap((r) => r.enable))]
    lines.push(`   ${reason} (${count(files.length, 'file', 'files')})`)
    lines.push(`     enable with: ${enable.join('; ')}`)
    lines.push(...wrap(files.join(', '), 110).map((l) => `     ${l}`))
  }
  const packages = [...new Set(records.flatMap((r) => r.packages))].sort()
  if (packages.length > 0) lines.push(` Debian packages that enable them: apt-get install -y ${packages.join(' ')}`)
  return `${lines.join('\n')}\n\n`
}

function count(n: number, one: string, other: string): string {
  return `${n} ${n === 1 ? one : other}`
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + word.length + 1 > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(line)
  return lines
}
