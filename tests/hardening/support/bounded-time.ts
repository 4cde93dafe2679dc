import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { expect } from 'vitest'
import { MAX_ERROR_MESSAGE_LENGTH } from '../../../src-main/platform'

/**
 * Time bounds for the hardening class tests, measured as a ratio to a benign input of the same size in the same run
 * (never an absolute time): adversarial and benign runs are interleaved and the fastest of each kept, so load from
 * other processes on the machine affects both alike. With HARDENING_REPORT=1 each comparison is appended to
 * `test-results/hardening-ratios.jsonl`.
 */
export interface Outcome {
  ms: number
  error?: unknown
}

async function once(fn: () => unknown): Promise<Outcome> {
  const start = performance.now()
  try {
    await fn()
    return { ms: performance.now() - start }
  } catch (error) {
    return { ms: performance.now() - start, error }
  }
}

export interface RatioOptions {
  /** Adversarial may take at most factor × benign + slackMs. */
  factor?: number
  slackMs?: number
  runs?: number
}

export interface Comparison {
  adversarial: Outcome
  benign: Outcome
  ratio: number
}

/**
 * Runs both inputs `runs` times, interleaved; asserts the bound and returns the fastest outcome of each (the
 * adversarial outcome's error is the refusal to check).
 */
export async function compareWithBenign(
  name: string,
  adversarial: () => unknown,
  benign: () => unknown,
  options: RatioOptions = {},
): Promise<Comparison> {
  const { factor = 5, slackMs = 50, runs = 3 } = options
  let adv: Outcome | undefined
  let ben: Outcome | undefined
  for (let i = 0; i < runs; i++) {
    const a = await once(adversarial)
    const b = await once(benign)
    if (adv === undefined || a.ms < adv.ms) adv = a
    if (ben === undefined || b.ms < ben.ms) ben = b
  }
  const ratio = adv!.ms / Math.max(ben!.ms, 0.001)
  if (process.env.HARDENING_REPORT === '1') {
    mkdirSync('test-results', { recursive: true })
    appendFileSync(join('test-results', 'hardening-ratios.jsonl'),
      `${JSON.stringify({ name, adversarialMs: round(adv!.ms), benignMs: round(ben!.ms), ratio: round(ratio) })}\n`)
  }
  expect(ben!.error, `${name}: the benign input must be accepted`).toBeUndefined()
  expect(adv!.ms, `${name}: ${round(adv!.ms)} ms against ${round(ben!.ms)} ms for the benign input`)
    .toBeLessThanOrEqual(factor * ben!.ms + slackMs)
  return { adversarial: adv!, benign: ben!, ratio }
}

const round = (n: number): number => Math.round(n * 100) / 100

/** The refusal: a coded error whose message is bounded. */
export function expectRefusal(outcome: Outcome, code: string | RegExp, maxMessage = MAX_ERROR_MESSAGE_LENGTH + 40): void {
  const error = outcome.error as { code?: string; faultCode?: string; message?: string } | undefined
  expect(error, 'the adversarial input must be refused').toBeDefined()
  const seen = error?.faultCode ?? error?.code ?? ''
  if (typeof code === 'string') expect(seen).toBe(code)
  else expect(seen).toMatch(code)
  expect((error?.message ?? '').length).toBeLessThanOrEqual(maxMessage)
}
