import { spawnSync } from 'node:child_process'
import { existsSync, statSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { runJourney, LANGUAGE_NAMES, type JourneyLanguage } from './journey/journey'

/**
 * `npm run e2e:journey`: the GUI journey of issue 11 (scripts/journey/journey.ts) with screenshots of every step in
 * English, Brazilian Portuguese and Spanish in test-results/screens/journey-*.png. Builds the GUI first when out/ is
 * missing or older than its sources. Prints each step with its time, and as its last line one JSON object:
 * {"servers":2,"exchanges_ok":N,"restarts_outside_gui":0,"cli_commands":0}. Exits 1 when the journey fails.
 *   --languages en,pt-BR,es   languages of the screenshots (default all three)
 *   --keep                    keep the temporary data directories
 */
const ROOT = resolve(__dirname, '..')

function newest(path: string): number {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  return stat.isDirectory() ? Math.max(0, ...readdirSync(path).map((e) => newest(join(path, e)))) : stat.mtimeMs
}

function buildGuiIfStale(): void {
  const index = join(ROOT, 'out/renderer/index.html')
  const built = existsSync(index) ? statSync(index).mtimeMs : 0
  if (built >= Math.max(newest(join(ROOT, 'src-renderer')), newest(join(ROOT, 'src-shared')))) return
  process.stderr.write('building the GUI (out/renderer)…\n')
  const result = spawnSync(process.execPath, [join(ROOT, 'tests/support/build-renderer.mjs'), ROOT], { stdio: 'inherit' })
  if (result.status !== 0) throw new Error('building the GUI failed')
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const languagesArg = args.find((a) => a.startsWith('--languages='))?.slice('--languages='.length) ?? args[args.indexOf('--languages') + 1]
  const languages = (args.includes('--languages') || languagesArg !== undefined ? (languagesArg ?? '') : Object.keys(LANGUAGE_NAMES).join(','))
    .split(',').filter((l): l is JourneyLanguage => l in LANGUAGE_NAMES)
  if (languages.length === 0) throw new Error(`--languages takes a list of ${Object.keys(LANGUAGE_NAMES).join(', ')}`)
  buildGuiIfStale()
  const started = Date.now()
  const result = await runJourney({
    languages, screensDir: join(ROOT, 'test-results/screens'), keep: args.includes('--keep'),
    log: (line) => process.stdout.write(`${line}\n`),
  })
  process.stdout.write(`journey: ${result.steps.length} steps in ${((Date.now() - started) / 1000).toFixed(0)} s, ${result.screenshots} screenshots in test-results/screens\n`)
  const { servers, exchanges_ok, restarts_outside_gui, cli_commands } = result
  process.stdout.write(`${JSON.stringify({ servers, exchanges_ok, restarts_outside_gui, cli_commands })}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`journey failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
