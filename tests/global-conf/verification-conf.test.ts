import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { readConfigurationDirectory, verificationConfEntries } from '../../src-main/global-conf'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'
import { useTempDirs } from '../support/temp-dir'

/**
 * Issue 17 item 6: the verification configuration as X-Road's `VerificationConfWriter` writes it — every instance's
 * shared parameters, metadata reduced to `configurationVersion`, the own instance identifier last.
 */
describeFixtures('verification configuration (globalconf/parsed-dirs/globalconf_good_v3)', () => {
  const tempDir = useTempDirs()

  it('lists every instance, metadata holding only configurationVersion, and instance-identifier last', () => {
    const entries = verificationConfEntries(fixturePath('globalconf', 'parsed-dirs', 'globalconf_good_v3'))
    expect(entries.map((e) => e.name)).toEqual([
      'verificationconf/EE/shared-params.xml', 'verificationconf/EE/shared-params.xml.metadata',
      'verificationconf/bar/shared-params.xml', 'verificationconf/bar/shared-params.xml.metadata',
      'verificationconf/foo_v2/shared-params.xml', 'verificationconf/foo_v2/shared-params.xml.metadata',
      'verificationconf/instance-identifier',
    ])
    const text = (name: string): string => entries.find((e) => e.name === name)?.data.toString('utf8') ?? ''
    expect(text('verificationconf/EE/shared-params.xml.metadata')).toBe('{"configurationVersion":"3"}')
    expect(text('verificationconf/bar/shared-params.xml.metadata')).toBe('{"configurationVersion":"3"}')
    // No configurationVersion in the stored metadata: Jackson's NON_NULL writes an empty object.
    expect(text('verificationconf/foo_v2/shared-params.xml.metadata')).toBe('{}')
    expect(text('verificationconf/instance-identifier')).toBe('EE')
  })

  it('unpacks into a directory the offline verifier reads, with every instance', () => {
    const dir = tempDir()
    for (const entry of verificationConfEntries(fixturePath('globalconf', 'parsed-dirs', 'globalconf_good_v3'))) {
      mkdirSync(join(dir, entry.name, '..'), { recursive: true })
      writeFileSync(join(dir, entry.name), entry.data)
    }
    const snapshot = readConfigurationDirectory(join(dir, 'verificationconf'))
    expect([...snapshot.instances.keys()].sort()).toEqual(['EE', 'bar', 'foo_v2'])
    expect(snapshot.instances.get('foo_v2')?.shared.version).toBe(2)
    expect(snapshot.instances.get('EE')?.shared.version).toBe(3)
  })

  it('has no entries before a configuration is stored', () => {
    const dir = tempDir()
    expect(verificationConfEntries(dir)).toEqual([])
    cpSync(fixturePath('globalconf', 'parsed-dirs', 'globalconf_good_v3', 'instance-identifier'), join(dir, 'instance-identifier'))
    expect(verificationConfEntries(dir)).toEqual([])
  })
})
