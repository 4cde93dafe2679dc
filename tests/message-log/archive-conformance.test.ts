import { expect, it } from 'vitest'
import { verifyArchive } from '../../src-main/message-log'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'

const archive = (name: string): string => fixturePath('messagelog', 'messagelog-addon', 'logarchive', `mlog-${name}.zip`)

describeFixtures('X-Road log archives (messagelog-addon/logarchive, SHA-256 linking)', () => {
  it('WITH_LINKINGINFO verifies as a first archive and gives its last digest', async () => {
    expect(await verifyArchive(archive('WITH_LINKINGINFO'), { first: true })).toEqual({
      valid: true,
      archive: 'mlog-WITH_LINKINGINFO.zip',
      algorithm: 'SHA-256',
      previousDigest: null,
      files: 1,
      lastDigest: '624334053a96e0e1209d342514b5d890aeaeee8f0659da69688a3eeac0304856',
    })
  })

  it('rejects each broken variant with its own reason', async () => {
    const reasons = await Promise.all(
      ['NO_LINKINGINFO', 'WITH_INVALID_LINKINGINFO', 'EXCESSIVE_FILES_IN_LINKINGINFO', 'NO_ASIC_CONTAINERS'].map(async (name) => {
        const verdict = await verifyArchive(archive(name), { first: true })
        expect(verdict.valid).toBe(false)
        return verdict.valid ? 'valid' : verdict.reason
      }),
    )
    expect(reasons).toEqual(['no_linkinginfo', 'digest_mismatch', 'files_mismatch', 'no_containers'])
  })

  it('rejects WITH_LINKINGINFO when chained to a previous digest it does not start from', async () => {
    expect(await verifyArchive(archive('WITH_LINKINGINFO'), { previousDigest: '00'.repeat(32) })).toMatchObject({
      valid: false, reason: 'previous_digest_mismatch',
    })
  })
})
