import { expect, it } from 'vitest'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'
import { runGatehouse } from '../support/cli'
import { runGatehouseInProcess } from '../support/cli-in-process'

// The valid container through a real `gatehouse` process; the refusals in this process through the CLI's own runCli.
describeFixtures('gatehouse asic verify', () => {
  const globalconf = fixturePath('globalconf/parsed-dirs/globalconf_good2_v3')

  it('exits 0 with the signer, time-stamp and OCSP for a valid container', () => {
    const result = runGatehouse(['asic', 'verify', fixturePath('asic/asic-verifier-cli/valid-batch-ts.asice'), '--globalconf', globalconf, '--json'])
    expect(result.status).toBe(0)
    const out = JSON.parse(result.stdout) as Record<string, unknown>
    expect(out).toMatchObject({
      valid: true,
      signer: 'DEV/COM/4321/TestClient',
      timestamp: { genTime: '2024-12-05T07:34:14.000Z', tsa: 'CN=Test TSA,O=Test', batch: true },
      ocsp: { responder: 'CN=Test OCSP,O=Test' },
    })
  })

  it('exits 1 with X-Road\'s code for an invalid container, 2 for a missing file', async () => {
    const invalid = await runGatehouseInProcess(['asic', 'verify', fixturePath('asic/asic-verifier-cli/invalid-digest.asice'), '--globalconf', globalconf, '--json'])
    expect(invalid.status).toBe(1)
    expect(JSON.parse(invalid.stdout)).toMatchObject({ valid: false, code: 'invalid_signature_value' })
    const missing = await runGatehouseInProcess(['asic', 'verify', fixturePath('asic/no-such.asice'), '--globalconf', globalconf, '--json'])
    expect(missing.status).toBe(2)
  })
})
