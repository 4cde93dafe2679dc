import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import { clientId, serviceId } from '@shared/domain/identifiers'
import { readConfigurationDirectory } from '../../src-main/global-conf'
import { ManualClock, inTransaction } from '../../src-main/platform'
import { readAsicContainer, verificationTrustFromGlobalConf, verifyAsicContainer, type AsicVerificationResult } from '../../src-main/signature'
import { readZipEntries, verifyArchive, type ArchiveFile } from '../../src-main/message-log'
import { insertTimestampRecord, linkTimestamp } from '../../src-main/message-log/message-record-repository'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'
import { createHarness, tempDir, type Harness } from './support/message-log-harness'
import { runGatehouse } from './support/run-cli'

/**
 * Evidence round trip with real X-Road data: the parts of `valid-batch-ts.asice` are logged as a record with their
 * batch time-stamp; the container Gatehouse writes for it (export and archive) must verify with the same verifier.
 */
/** What X-Road's verifier says of valid-batch-ts.asice, and so of every container Gatehouse writes from its parts. */
const VALID_FIXTURE_VERDICT = {
  valid: true,
  signer: clientId('DEV', 'COM', '4321', 'TestClient'),
  timestamp: { batch: true, tsa: 'CN=Test TSA,O=Test' },
  ocsp: { responder: 'CN=Test OCSP,O=Test' },
}

describeFixtures('evidence export and archives with real X-Road containers', () => {
  let snapshot: ReturnType<typeof readConfigurationDirectory>
  beforeAll(() => {
    snapshot = readConfigurationDirectory(fixturePath('globalconf/parsed-dirs/globalconf_good2_v3'))
  })
  const verify = (container: Uint8Array): Promise<AsicVerificationResult> => verifyAsicContainer(container, (i) => verificationTrustFromGlobalConf(snapshot, i))

  async function logFixture(h: Harness, queryId: string): Promise<number> {
    const asic = await readAsicContainer(readFixture('asic/asic-verifier-cli/valid-batch-ts.asice'))
    const id = await h.log.record({
      queryId, xRequestId: null, client: clientId('DEV', 'COM', '4321', 'TestClient'),
      service: serviceId(clientId('DEV', 'COM', '1234', 'TestService'), 'testService'), response: false,
      message: asic.message, attachments: asic.attachments, signatureXml: asic.signatureXml.toString('utf8'),
    })
    inTransaction(h.db, () => {
      const ts = insertTimestampRecord(h.db, {
        timeMs: Date.now(), token: asic.timestampToken as Buffer, hashChainResult: (asic.tsHashChainResult as Buffer).toString('utf8'), tsaUrl: 'http://tsa.example',
      })
      linkTimestamp(h.db, id, ts, (asic.tsHashChain as Buffer).toString('utf8'))
    })
    return id
  }

  it('exports the ASiC-E container of a query id that verifies, with its report', async () => {
    const h = createHarness(new ManualClock('2026-03-01T00:00:00Z'), { containerVerifier: verify })
    try {
      const id = await logFixture(h, 'evidence-1')
      const [exported, ...rest] = await h.log.exportEvidence('evidence-1')
      expect(rest).toEqual([])
      expect(exported).toMatchObject({ recordId: id, response: false, timestamped: true, fileName: `evidence-1-request-${id.toString(32)}.asice` })
      expect(exported?.verification).toMatchObject({ valid: true, report: { timestamp: { batch: true } } })
      const asic = await readAsicContainer(exported?.container as Uint8Array)
      expect(asic.order).toContain('META-INF/timestamp.tst')
      await expect(h.log.exportEvidence('unknown')).rejects.toMatchObject({ code: 'not_found' })
      expect(await h.log.exportEvidence('evidence-1', { responseOnly: true }).catch((e: { code: string }) => e.code)).toBe('not_found')
    } finally {
      await h.close()
    }
  })

  it('reports a container that does not verify (tampered record) instead of hiding it', async () => {
    const h = createHarness(new ManualClock(), { containerVerifier: verify })
    try {
      const id = await logFixture(h, 'evidence-2')
      h.db.prepare("UPDATE message_record_contents SET message = CAST(REPLACE(CAST(message AS TEXT), 'TestService', 'TestServicX') AS BLOB) WHERE record_id = ?").run(id)
      const [exported] = await h.log.exportEvidence('evidence-2')
      expect(exported?.verification).toMatchObject({ valid: false, code: 'invalid_signature_value' })
    } finally {
      await h.close()
    }
  })

  it('gatehouse messagelog export writes the containers and a verification report', async () => {
    const h = createHarness(new ManualClock())
    await logFixture(h, 'cli-export')
    await h.close()
    const out = tempDir('gh-export-')
    const globalconf = fixturePath('globalconf/parsed-dirs/globalconf_good2_v3')
    const { code, stdout } = await runGatehouse('messagelog', 'export', '--data-dir', h.dir, '--query-id', 'cli-export', '--out', out, '--globalconf', globalconf, '--json')
    expect(code).toBe(0)
    const doc = JSON.parse(stdout) as { containers: Array<{ file: string; verification: { valid: boolean } }> }
    expect(doc.containers).toHaveLength(1)
    expect(doc.containers[0]?.verification).toMatchObject({ valid: true, report: { signer: 'DEV/COM/4321/TestClient', timestamp: { batch: true } } })
    await expect(verify(readFileSync(doc.containers[0]?.file as string))).resolves.toMatchObject(VALID_FIXTURE_VERDICT)
    expect(JSON.parse(readFileSync(join(out, 'verification-report.json'), 'utf8'))).toEqual(doc)
    const unverified = await runGatehouse('messagelog', 'export', '--data-dir', h.dir, '--query-id', 'cli-export', '--out', out, '--json')
    expect(unverified.code).toBe(0)
    expect(JSON.parse(unverified.stdout).containers[0].verification.valid).toBeNull()
    expect((await runGatehouse('messagelog', 'export', '--data-dir', h.dir, '--query-id', 'nope', '--out', out)).code).toBe(1)
  })

  it('archives real containers that verify after extraction and chain correctly', async () => {
    const h = createHarness(new ManualClock(), { settings: { archiveDir: tempDir('gh-ev-archive-') } })
    try {
      await logFixture(h, 'a-1')
      await logFixture(h, 'a-2')
      const run = await h.log.archiveNow()
      const archive = run.archives[0] as ArchiveFile
      expect(await verifyArchive(archive.path, { first: true })).toMatchObject({ valid: true, files: 2 })
      const containers = (await readZipEntries(archive.path)).filter((e) => e.name.endsWith('.asice'))
      expect(containers).toHaveLength(2)
      for (const c of containers) await expect(verify(c.data)).resolves.toMatchObject(VALID_FIXTURE_VERDICT)
    } finally {
      await h.close()
    }
  })
})

