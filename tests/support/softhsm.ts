import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A private SoftHSM2 token per test (toolchain-notes.md §6): own temp directory and `softhsm2.conf`, `SOFTHSM2_CONF`
 * set in this process before any `C_Initialize`, a token initialized with `softhsm2-util --init-token --free`, and
 * cleanup. Slots are found by label, never by id.
 */
export const SOFTHSM_MODULE = process.env.GATEHOUSE_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so'
export const HAVE_SOFTHSM = existsSync(SOFTHSM_MODULE)

export interface SoftHsmToken {
  readonly module: string
  readonly dir: string
  readonly conf: string
  readonly label: string
  readonly pin: string
  readonly soPin: string
  /** Environment for child processes (pkcs11-tool, the CLI) that must see the same token. */
  readonly env: NodeJS.ProcessEnv
  /** Initializes one more token with another label in the same token directory. */
  addToken(label: string, pin?: string): void
  cleanup(): void
}

export function createSoftHsmToken(options: { label?: string; pin?: string; soPin?: string } = {}): SoftHsmToken {
  if (!HAVE_SOFTHSM) throw new Error(`SoftHSM2 module not found at ${SOFTHSM_MODULE}`)
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-softhsm-'))
  const tokens = join(dir, 'tokens')
  mkdirSync(tokens)
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`)
  const previous = process.env.SOFTHSM2_CONF
  process.env.SOFTHSM2_CONF = conf
  const env = { ...process.env, SOFTHSM2_CONF: conf }
  const label = options.label ?? 'gatehouse-test'
  const pin = options.pin ?? '1234'
  const soPin = options.soPin ?? '12345678'
  const addToken = (tokenLabel: string, tokenPin = pin): void => {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--so-pin', soPin, '--pin', tokenPin], { env, stdio: 'pipe' })
  }
  addToken(label)
  return {
    module: SOFTHSM_MODULE, dir, conf, label, pin, soPin, env, addToken,
    cleanup() {
      if (previous === undefined) delete process.env.SOFTHSM2_CONF
      else process.env.SOFTHSM2_CONF = previous
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
