import { createHash, verify as cryptoVerify, X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { closeDatabase, migrate, openDatabase } from '../../src-main/platform'
import { createServerConf, serverConfMigrations } from '../../src-main/server-conf'
import { createSigner, importXroadKeyConf, parseXroadKeyConf, readXroadP12 } from '../../src-main/signer'
import { GATEHOUSE_BIN } from '../support/cli'
import { fixturePath, readFixture } from '../support/fixtures'
import { FIXTURES, SOFTHSM, describeWith } from '../support/requirements'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { spawnSync } from 'node:child_process'

/**
 * `gatehouse import xroad-keyconf` into a PKCS#11 token (SoftHSM2, its own SOFTHSM2_CONF): SS0's software token of
 * X-Road's DEV instance (keyconf.xml + .p12, PIN Secret1234) lands on the device as non-extractable sensitive keys
 * under X-Road's key ids, its certificates in the key configuration, and what cannot be migrated is said.
 */
describeWith([FIXTURES, SOFTHSM], 'migration of an X-Road soft token to a PKCS#11 token', () => {
  let dir: string
  let hsm: SoftHsmToken
  let tokenId: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-keyconf-'))
    hsm = createSoftHsmToken({ label: 'migrated', pin: '5678' })
    const db = openDatabase(join(dir, 'serverconf.sqlite'))
    migrate(db, [serverConfMigrations])
    createServerConf(db).initialize(memberId('DEV', 'COM', '1234'), 'SS0')
    const signer = createSigner({ db, dataDir: dir })
    tokenId = (await signer.addPkcs11Token(hsm.module, { label: hsm.label })).id
    await signer.close()
    closeDatabase(db)
  }, 30_000)

  afterAll(() => {
    hsm?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  it('reads keyconf.xml and the .p12 files as X-Road wrote them', () => {
    const keys = parseXroadKeyConf(readFixture('pki', 'ss0-softtoken', 'keyconf.xml'))
    expect(keys.map((k) => [k.keyId, k.usage, k.certs.length])).toEqual([
      ['DF9242D3CBDE6DAC8058D2878340C3B527041FD0', 'auth', 1], ['1342B84B4829BB79226AB268B4D8E70B01068613', 'sign', 1], ['FA73509F9E9DFB7A3D92B3D34DA6BD20374A24B0', 'sign', 1],
    ])
    expect(keys[1]?.certs[0]?.memberId).toEqual(memberId('DEV', 'COM', '1234'))
    expect(() => readXroadP12(readFixture('pki', 'ss0-softtoken', 'softtoken', '1342B84B4829BB79226AB268B4D8E70B01068613.p12'), 'wrong')).toThrow(/PIN/)
  })

  it('imports onto the device through the CLI and the keys sign for their certificates; a second import skips them', async () => {
    const run = spawnSync(process.execPath, [GATEHOUSE_BIN, 'import', 'xroad-keyconf', '--data-dir', dir, '--keyconf', fixturePath('pki', 'ss0-softtoken', 'keyconf.xml'),
      '--token-dir', fixturePath('pki', 'ss0-softtoken', 'softtoken'), '--xroad-pin', 'Secret1234', '--token', tokenId, '--pin', hsm.pin, '--json'], { encoding: 'utf8', env: hsm.env })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const json = JSON.parse(run.stdout) as { imported: Array<{ keyId: string; usage: string; certificates: Array<{ state: string }> }>; notMigrated: Array<{ what: string }> }
    expect(json.imported.map((k) => [k.keyId, k.usage, k.certificates.map((c) => c.state)])).toEqual([
      ['df9242d3cbde6dac8058d2878340c3b527041fd0', 'auth', ['registered']], ['1342b84b4829bb79226ab268b4d8e70b01068613', 'sign', ['active']],
      ['fa73509f9e9dfb7a3d92b3d34da6bd20374a24b0', 'sign', ['active']],
    ])
    expect(json.notMigrated.map((n) => n.what)).toEqual(['X-Road token PIN file .softtoken.p12'])

    const db = openDatabase(join(dir, 'serverconf.sqlite'))
    const signer = createSigner({ db, dataDir: dir })
    try {
      await signer.login(tokenId, hsm.pin)
      const driver = signer.driver(tokenId)
      const attributes = await driver.keyAttributes?.('1342b84b4829bb79226ab268b4d8e70b01068613')
      expect(attributes).toMatchObject({ CKA_TOKEN: true, CKA_PRIVATE: true, CKA_SENSITIVE: true, CKA_EXTRACTABLE: false, CKA_SIGN: true, CKA_DECRYPT: false })
      const cert = signer.listCertificates().find((c) => c.keyId === '1342b84b4829bb79226ab268b4d8e70b01068613')
      const data = Buffer.from('management request')
      const signature = await driver.sign('1342b84b4829bb79226ab268b4d8e70b01068613', 'rsa-pkcs1-sha512', createHash('sha512').update(data).digest())
      expect(cryptoVerify('sha512', data, new X509Certificate(cert?.certDer as Buffer).publicKey, signature)).toBe(true)
      const again = await importXroadKeyConf(signer, {
        keyconf: readFixture('pki', 'ss0-softtoken', 'keyconf.xml'), tokenDir: fixturePath('pki', 'ss0-softtoken', 'softtoken'), xroadPin: 'Secret1234', tokenId,
      })
      expect(again.imported).toEqual([])
      expect(again.notMigrated.filter((n) => n.reason.includes('already'))).toHaveLength(3)
    } finally {
      await signer.close()
      closeDatabase(db)
    }
  }, 60_000)
})
