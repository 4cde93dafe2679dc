import { expect, it } from 'vitest'
import { readConfigurationDirectory } from '../../src-main/global-conf'
import { asicTrustFromGlobalConf, readAsicContainer, verifyAsicContainer } from '../../src-main/signature'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, listFixtures, readFixture } from '../support/fixtures'

async function verdict(container: Buffer, trust: Parameters<typeof verifyAsicContainer>[1]): Promise<string> {
  try {
    await verifyAsicContainer(container, trust)
    return 'valid'
  } catch (error) {
    return (error as { faultCode?: string }).faultCode ?? String(error)
  }
}

async function readCode(container: Buffer): Promise<string> {
  try {
    await readAsicContainer(container)
    return 'readable'
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
}

/** X-Road's verdicts by container kind (asic-verifier-cli test); held-back containers follow the same names. */
const EXPECTED: Record<string, string> = {
  'valid-signed-message': 'valid',
  'valid-non-batch-rest': 'valid',
  'valid-non-batch-soap-attachments': 'valid',
  'valid-signed-hashchain': 'valid',
  'valid-batch-ts': 'valid',
  'wrong-message': 'invalid_signature_value',
  'invalid-digest': 'invalid_signature_value',
  'invalid-signed-hashchain': 'malformed_signature.invalid_hash_chain_ref',
  'invalid-hashchain-modified-message': 'malformed_signature.hashchain_unused_inputs',
  'invalid-incorrect-references': 'malformed_signature',
  'invalid-ts-hashchainresult': 'malformed_signature',
  'invalid-not-signed-hashchain': 'valid',
}

describeFixtures('ASiC-E conformance (asic/asic-verifier-cli with globalconf_good2_v3)', () => {
  const snapshot = () => readConfigurationDirectory(fixturePath('globalconf/parsed-dirs/globalconf_good2_v3'))
  const containers = listFixtures('asic/asic-verifier-cli').filter((f) => f.endsWith('.asice'))

  it('finds the containers, each with X-Road\'s expected verdict', () => {
    expect(containers.length).toBeGreaterThanOrEqual(5)
    expect(containers.map((f) => f.replace(/\.asice$/, '')).filter((kind) => EXPECTED[kind] === undefined)).toEqual([])
  })

  it.each(containers)('%s gets X-Road\'s verdict', async (file) => {
    const kind = file.replace(/\.asice$/, '')
    const snap = snapshot()
    expect(await verdict(readFixture('asic/asic-verifier-cli', file), asicTrustFromGlobalConf(snap))).toBe(EXPECTED[kind])
  })

  it('reports signer, time-stamp and OCSP of a valid container', async () => {
    const snap = snapshot()
    const result = await verifyAsicContainer(readFixture('asic/asic-verifier-cli/valid-batch-ts.asice'), asicTrustFromGlobalConf(snap))
    expect(result.signer).toEqual({ objectType: 'SUBSYSTEM', xRoadInstance: 'DEV', memberClass: 'COM', memberCode: '4321', subsystemCode: 'TestClient' })
    expect(result.timestamp.batch).toBe(true)
    expect(result.timestamp.tsa).toBe('CN=Test TSA,O=Test')
    expect(result.ocsp.responder).toBe('CN=Test OCSP,O=Test')
  })
})

// X-Road's AsicContainerTest (not-asic: ZipInputStream finds no entry in a file that is not a ZIP, so no mimetype).
describeFixtures('ASiC-E structure (asic/asic-core)', () => {
  it.each([
    ['no-message.asice', 'asic_message_not_found'],
    ['no-mimetype.asice', 'asic_mime_type_not_found'],
    ['no-signature.asice', 'asic_signature_not_found'],
    ['not-asic.asice', 'asic_mime_type_not_found'],
    ['valid-signed-message.asice', 'readable'],
    ['valid-signed-message-with-attachments.asice', 'readable'],
  ])('%s → %s', async (file, code) => {
    expect(await readCode(readFixture('asic/asic-core', file))).toBe(code)
  })

  it('reads attachments of valid-signed-message-with-attachments in order', async () => {
    const asic = await readAsicContainer(readFixture('asic/asic-core/valid-signed-message-with-attachments.asice'))
    expect(asic.attachments.map((a) => a.length)).toEqual([100, 50])
    expect(asic.order).toEqual(['mimetype', 'message.xml', 'META-INF/signatures.xml', 'META-INF/manifest.xml', 'attachment1', 'attachment2'])
  })
})

describeFixtures('ASiC-E reader limits', () => {
  it('refuses an entry above the size limit', async () => {
    const container = readFixture('asic/asic-core/valid-signed-message.asice')
    await expect(readAsicContainer(container, { maxEntryBytes: 100 })).rejects.toMatchObject({ code: 'archive_invalid' })
  })
})
