import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { runCli } from '../../src-main/cli/main'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'

let stdout = ''
beforeEach(() => {
  stdout = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString()
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
})
afterEach(() => {
  vi.restoreAllMocks()
})

const gatehouse = (...args: string[]): Promise<number> => runCli(['node', 'gatehouse', ...args])
const DEV = (...p: string[]): string => fixturePath('globalconf', 'dev-signed-V3-V6', ...p)
const ANCHOR = DEV('anchor', 'configuration_anchor_CS_internal.xml')

describeFixtures('gatehouse globalconf', () => {
  it('verify: a valid directory with its parts exits 0 with the JSON summary', async () => {
    const code = await gatehouse('globalconf', 'verify', '--anchor', ANCHOR, DEV('public', 'V6', 'internalconf'),
      '--parts-root', DEV('public'), '--at', '2030-01-01T00:00:00Z', '--json')
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ valid: true, instance: 'DEV', version: 6, expires: '2035-11-11T03:07:40.000Z', partsChecked: true })
  })

  it('verify: rotation certificates come from previously trusted shared parameters', async () => {
    const args = ['globalconf', 'verify', '--anchor', ANCHOR, DEV('public', 'V4', 'internalconf'), '--at', '2030-01-01T00:00:00Z', '--json']
    expect(await gatehouse(...args)).toBe(1)
    expect(JSON.parse(stdout)).toMatchObject({ valid: false, reason: 'cert_not_found.unknown_verification_certificate' })
    stdout = ''
    expect(await gatehouse(...args, '--trusted-shared-params', DEV('public', 'V4', '20240529203822880997000', 'shared-params.xml'))).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ valid: true, version: 4 })
  })

  it('verify: the known-mismatching externalconf part and an expired directory exit 1 with their reasons', async () => {
    const external = ['--trusted-shared-params', DEV('public', 'V6', '20251110170000548026000', 'shared-params.xml')]
    expect(await gatehouse('globalconf', 'verify', '--anchor', ANCHOR, DEV('public', 'V6', 'externalconf'), '--parts-root', DEV('public'), '--at', '2030-01-01T00:00:00Z', '--json', ...external)).toBe(1)
    expect(JSON.parse(stdout)).toMatchObject({ valid: false, reason: 'invalid_signature_value.content_hash_mismatch' })
    stdout = ''
    expect(await gatehouse('globalconf', 'verify', '--anchor', ANCHOR, DEV('public', 'V6', 'internalconf'), '--at', '2036-01-01T00:00:00Z', '--json')).toBe(1)
    expect(JSON.parse(stdout)).toMatchObject({ valid: false, reason: 'global_conf_outdated' })
  })

  it('verify: a bad --at is a usage error', async () => {
    expect(await gatehouse('globalconf', 'verify', '--anchor', ANCHOR, DEV('public', 'V6', 'internalconf'), '--at', 'yesterday')).toBe(2)
  })

  it('show: prints the read model of a stored directory', async () => {
    expect(await gatehouse('globalconf', 'show', fixturePath('globalconf', 'parsed-dirs', 'globalconf_good_v6'), '--json')).toBe(0)
    const model = JSON.parse(stdout) as { instanceIdentifier: string; instances: Record<string, { shared: { version: number; securityServers: Array<{ id: string }> } }> }
    expect(model.instanceIdentifier).toBe('EE')
    expect(model.instances.EE?.shared.version).toBe(6)
    expect(model.instances.EE?.shared.securityServers[0]?.id).toMatch(/^SERVER:EE\//)
    stdout = ''
    expect(await gatehouse('globalconf', 'show', fixturePath('globalconf', 'parsed-dirs', 'globalconf_good_v2'))).toBe(0)
    expect(stdout).toMatch(/own instance: EE/)
    expect(await gatehouse('globalconf', 'show', fixturePath('globalconf', 'parsed-dirs', 'globalconf_malformed'))).toBe(1)
  })
})
