import { spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { expect, it } from 'vitest'
import { useTempDirs } from '../support/temp-dir'

/**
 * A clone without ../shared must pass `npm test`: every suite reading the X-Road fixtures skips, with the reason in
 * its name and in the table printed at the end, and nothing reads a fixture while the tests are being declared.
 * Runs the fixture suites in a child vitest against an empty fixtures folder; `-t` keeps it to declaring the tests
 * (the tests outside the fixture suites are filtered out, they are not what this checks) and `--no-isolate` to one
 * worker importing the files in turn, ~4 s instead of ~20 s.
 */
const ROOT = resolve(__dirname, '../..')
const tempDir = useTempDirs()

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? testFiles(path) : entry.name.endsWith('.test.ts') ? [path] : []
  })
}

function runVitest(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')))
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', ...args], {
    cwd: ROOT, env: { ...inherited, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), 100_000)
  return new Promise((resolvePromise) => child.once('close', (code) => {
    clearTimeout(timer)
    resolvePromise({ code, stdout, stderr })
  }))
}

interface JsonReport {
  numFailedTests: number
  numFailedTestSuites: number
  numPassedTests: number
  testResults: Array<{ name: string; status: string; message: string; assertionResults: Array<{ status: string; ancestorTitles: string[] }> }>
}

it('without the fixtures folder every fixture suite skips with its reason and the run exits 0', async () => {
  const files = testFiles(join(ROOT, 'tests'))
    .filter((file) => /from '\.\.\/support\/(fixtures|describe-fixtures)'/.test(readFileSync(file, 'utf8')))
    .map((file) => relative(ROOT, file))
    .sort()
  expect(files.length).toBeGreaterThanOrEqual(20)
  const empty = tempDir()
  const report = join(tempDir(), 'report.json')
  const run = await runVitest(
    [...files, '-t', 'X-Road fixtures not found', '--no-isolate', '--reporter=json', `--outputFile=${report}`],
    { GATEHOUSE_FIXTURES_DIR: empty },
  )
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0)

  const result = JSON.parse(readFileSync(report, 'utf8')) as JsonReport
  expect(result.testResults.filter((f) => f.status === 'failed').map((f) => `${f.name}: ${f.message}`)).toEqual([])
  expect([result.numFailedTests, result.numFailedTestSuites, result.numPassedTests]).toEqual([0, 0, 0])
  const reason = `X-Road fixtures not found at ${empty}`
  const skippedFixtureTests = (file: string): number => result.testResults
    .filter((f) => relative(ROOT, f.name) === file)
    .flatMap((f) => f.assertionResults)
    .filter((a) => a.status !== 'passed' && a.status !== 'failed' && a.ancestorTitles.some((title) => title.includes(reason))).length
  expect(files.filter((file) => skippedFixtureTests(file) === 0)).toEqual([])

  expect(run.stdout).toContain(`${reason} (no MANIFEST.md) (${files.length} files)`)
  expect(run.stdout).toContain('enable with: the X-Road fixtures folder at ../shared/fixtures/xroad')
}, 120_000)
