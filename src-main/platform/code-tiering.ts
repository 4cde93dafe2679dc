import { setFlagsFromString } from 'node:v8'

/**
 * How much bytecode a function runs between V8's tiering decisions, in bytes of bytecode (V8 11.3's default in Node 20:
 * 67 584). An eighth of it: a hot function reaches optimised code after about a third of the calls (39 against 126
 * for a small loop, tests/platform/code-tiering.test.ts).
 */
export const TIER_UP_INTERRUPT_BUDGET = 8192

/**
 * Lets V8 optimise a server's hot code sooner after it starts. By default V8 goes on compiling an exchange's code
 * paths for 10–30 s of traffic, and a server's first seconds cost far more CPU than its steady state — at c=16 with
 * 1 KB REST messages, 3.2–3.5 ms per exchange for the pair over its 1st–5th seconds against about 2.0 after ten
 * (`profile-pair --warmup 1000` / `--warmup 10000`); with an eighth of the budget 2.4–2.7 ms over the same early
 * window and 1.9 at steady state (issue 15, README "Performance"). A restart, a fail-over to a cluster's other node
 * or a burst after a quiet night meets that cold cost. Set in the running process, as `limitOldGenerationGrowth`
 * does, so that the desktop app's Electron main process gets it too: V8 reads the flag each time it resets a
 * function's budget.
 */
export function tierUpSooner(budget = TIER_UP_INTERRUPT_BUDGET): void {
  setFlagsFromString(`--interrupt-budget=${budget}`)
}
