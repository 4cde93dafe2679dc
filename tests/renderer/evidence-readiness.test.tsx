// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest'
import type { ReadinessCheck } from '@shared/admin-api/admin-api'
import { setLanguage } from '../../src-renderer/i18n'
import { readinessText } from '../../src-renderer/features/dashboard/ReadinessCard'

/**
 * The evidence-continuity line of the dashboard's readiness card: the server's codes and parameters
 * (`server/traffic-readiness.ts` `evidenceCheck`) in the language shown, whether traffic is refused or flows.
 */
const check = (code: ReadinessCheck['code'], light: ReadinessCheck['light'], params: ReadinessCheck['params']): ReadinessCheck =>
  ({ key: 'evidence', light, code, params, message: 'English fallback' })

afterEach(async () => {
  await setLanguage('en')
})

describe('evidence readiness texts', () => {
  it('words every evidence code, with the refusal or the traffic that continues', async () => {
    expect(readinessText(check('evidence-ready', 'green', { count: 42, checkedAt: '2026-01-01T10:05:00.000Z' })))
      .toMatch(/^The message log's evidence chain is intact: all 42 acknowledged records are there and unchanged \(checked .+\)\.$/)
    expect(readinessText(check('evidence-ready', 'green', { count: 0, checkedAt: '2026-01-01T10:05:00.000Z' })))
      .toBe('Nothing has been logged yet; the evidence chain starts with the first record.')
    expect(readinessText(check('evidence-gap', 'red', { count: 27, range: '120–146', refusing: 'yes' })))
      .toBe('27 acknowledged message-log records are missing (chain positions 120–146). New messages are refused until an administrator acknowledges the loss on the Message log page.')
    expect(readinessText(check('evidence-gap', 'yellow', { count: 1, range: '9', refusing: 'no' })))
      .toBe('1 acknowledged message-log record is missing (chain position 9). Traffic continues because stopping on evidence loss is switched off; acknowledge the loss on the Message log page.')
    expect(readinessText(check('evidence-broken', 'red', { kind: 'altered', problem: 'server words', count: 1, first: 7, refusing: 'yes' })))
      .toBe("The message log's evidence is damaged: a logged record or body no longer matches its chain hash. New messages are refused until an administrator acknowledges it on the Message log page.")
    expect(readinessText(check('evidence-acknowledged', 'green', { count: 2, by: 'officer', acknowledgedAt: '2026-01-01T11:00:00.000Z' })))
      .toMatch(/^The evidence chain is intact apart from 2 problems an administrator acknowledged \(last: officer, .+\)\.$/)
    await setLanguage('pt-BR')
    expect(readinessText(check('evidence-broken', 'yellow', { kind: 'ack-file', problem: 'server words', count: 1, first: '', refusing: 'no' })))
      .toBe('As evidências do log de mensagens estão danificadas: o arquivo de confirmações sumiu ou está ilegível. O tráfego continua porque a interrupção por perda de evidências está desligada; reconheça o ocorrido na página Log de mensagens.')
    await setLanguage('es')
    expect(readinessText(check('evidence-gap', 'red', { count: 3, range: '5–7', refusing: 'yes' }))).toMatch(/^Faltan 3 registros confirmados \(posiciones 5–7/)
  })
})
