import { describe, expect, it } from 'vitest'
import {
  FAULT_CLASSES, SHORT_SIZES, classPassed, figures, jsonLine, runFaultHarness, type FaultClass,
} from '../../scripts/lib/faults/fault-harness'
import { namespacedTmpfsAvailable } from '../../scripts/lib/faults/disk-full-class'
import { SOFTHSM, recordSkip, type Requirement } from '../support/requirements'

/**
 * The short form of `npm run soak:faults` (issue 14): the same harness on one lab pair of real `gatehouse serve`
 * processes, every class once or twice. Each class must lose no acknowledged message (the corruption classes: report
 * every one they destroy), report every loss, behave as its parameter says and recover without a restart.
 */
const NAMESPACED_TMPFS: Requirement = {
  missing: namespacedTmpfsAvailable() ? undefined : 'unprivileged user and mount namespaces (unshare -Urm) are not available',
  packages: ['util-linux'],
  enable: 'sysctl kernel.unprivileged_userns_clone=1 (or run where user namespaces are allowed)',
}

const NEEDS: Partial<Record<FaultClass, Requirement>> = {
  'token-loss': SOFTHSM,
  'disk-full-provider': NAMESPACED_TMPFS,
  'disk-full-consumer': NAMESPACED_TMPFS,
}

/** Two halves, each on its own lab pair, run side by side: most of a trial is waiting for a period to run out. */
const GROUPS: ReadonlyArray<readonly FaultClass[]> = [
  ['kill-provider', 'kill-consumer', 'tsa-outage', 'ocsp-outage', 'conf-source-outage'],
  ['token-loss', 'disk-full-provider', 'disk-full-consumer', 'wal-corruption', 'db-corruption'],
]

describe.concurrent('the fault harness, short form', () => {
  for (const name of FAULT_CLASSES.filter((n) => NEEDS[n]?.missing !== undefined)) recordSkip(`fault harness: ${name}`, [NEEDS[name] as Requirement])

  GROUPS.forEach((group, index) => {
    const classes = group.filter((name) => NEEDS[name]?.missing === undefined)
    if (classes.length === 0) return
    it(`${classes.join(', ')}: nothing acknowledged is lost, every loss is reported, every fault recovers without a restart`, async () => {
      const lines: string[] = []
      const result = await runFaultHarness({ sizes: SHORT_SIZES, classes, seed: 14 + index, log: (line) => lines.push(line) })
      const summary = `${lines.join('\n')}\n${jsonLine(result)}`
      expect(Object.keys(result.classes), summary).toEqual(classes)
      for (const name of classes) {
        const report = result.classes[name]
        if (report === undefined) throw new Error(`no report for ${name}`)
        expect(report.trials, `${name} made no trial\n${summary}`).toBeGreaterThan(0)
        expect(report.acknowledged, `${name} saw no traffic\n${summary}`).toBeGreaterThan(0)
        expect({ name, ...figures(report), failures: report.failures, passed: classPassed(name, report) }, summary).toMatchObject({
          undetected: 0, recoveredWithoutRestart: report.trials, failures: [], passed: true,
        })
        // The destructive classes do destroy evidence: the harness sees it, and (above) so does the server.
        if (name === 'wal-corruption' || name === 'db-corruption') expect(report.lost, summary).toBeGreaterThan(0)
      }
    }, 300_000)
  })
})
