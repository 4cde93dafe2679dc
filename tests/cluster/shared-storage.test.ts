import { afterEach, expect, it } from 'vitest'
import { migrate, schemaVersions, type SqlWriter } from '../../src-main/platform'
import { signerMigrations } from '../../src-main/signer'
import {
  deleteKeyRow, findCertificateRow, findOcspFailure, findOcspRow, insertCertificate, insertChainCertificates, insertKey, insertToken,
  listCertificateRows, listChainCertificates, listKeyRows, listTokenRows, upsertOcspFailure, upsertOcspRow,
} from '../../src-main/signer/key-conf-repository'
import { clusterMigrations } from '../../src-main/cluster'
import { listClusterNodes, upsertClusterNode } from '../../src-main/cluster/cluster-nodes-repository'
import { describeStorage } from '../support/postgres'

/**
 * What cluster mode moves into the shared database besides server-conf (issue 18), on both engines: the signer's key
 * configuration (migrations 1..2 and its repository) and the nodes' registry (cluster migration 1 and its repository).
 */
describeStorage('shared configuration beyond server-conf', (engine) => {
  const dbs: SqlWriter[] = []
  const fresh = (): SqlWriter => {
    const db = engine.open()
    dbs.push(db)
    migrate(db, [signerMigrations, clusterMigrations])
    return db
  }
  afterEach(() => dbs.splice(0).forEach((db) => engine.close(db)))

  it('applies the signer and cluster migrations once, by number', () => {
    const db = fresh()
    expect(schemaVersions(db)).toEqual([{ component: 'cluster', version: 1 }, { component: 'signer', version: 2 }])
    expect(migrate(db, [signerMigrations, clusterMigrations])).toBe(0)
  })

  it('keeps the key configuration: tokens, keys, certificates with chains, OCSP state, deleted by cascade', () => {
    const db = fresh()
    insertToken(db, { id: '0', kind: 'software', modulePath: null, tokenLabel: null, tokenSerial: null, createdAt: '2026-01-01T00:00:00.000Z' })
    insertToken(db, { id: 'hsm', kind: 'pkcs11', modulePath: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'HSM', tokenSerial: null, createdAt: '2026-01-01T00:00:01.000Z' })
    expect(() => insertToken(db, { id: 'bad', kind: 'pkcs11', modulePath: null, tokenLabel: null, tokenSerial: null, createdAt: 'x' })).toThrow(/CHECK constraint failed|violates check constraint/)
    expect(listTokenRows(db).map((t) => [t.id, t.kind, t.modulePath])).toEqual([['0', 'software', null], ['hsm', 'pkcs11', '/usr/lib/softhsm/libsofthsm2.so']])
    const publicKey = Buffer.from([0x30, 0x59, 0x00, 0xff])
    insertKey(db, { id: 'k1', tokenId: '0', label: 'sign', usage: 'sign', algorithm: 'ec-p256', publicKey, createdAt: '2026-01-01T00:00:02.000Z' })
    insertKey(db, { id: 'K0', tokenId: '0', label: 'auth', usage: 'auth', algorithm: 'ec-p256', publicKey, createdAt: '2026-01-01T00:00:02.000Z' })
    // Byte-wise order on both engines (K before k), blobs back as Buffers.
    expect(listKeyRows(db, '0').map((k) => k.id)).toEqual(['K0', 'k1'])
    expect(Buffer.isBuffer(listKeyRows(db)[0]?.publicKey) && listKeyRows(db)[0]?.publicKey.equals(publicKey)).toBe(true)
    insertCertificate(db, {
      id: 'c1', keyId: 'k1', memberId: 'LAB/GOV/1', certDer: Buffer.from([1, 2, 3]), subject: 'CN=a', issuer: 'CN=ca', serialNumber: '01',
      notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', status: 'saved', createdAt: '2026-01-01T00:00:03.000Z',
    })
    insertChainCertificates(db, 'c1', [Uint8Array.of(9), Uint8Array.of(8)])
    expect(listChainCertificates(db, 'c1').map((b) => [...b])).toEqual([[9], [8]])
    expect(findCertificateRow(db, 'c1')).toMatchObject({ keyId: 'k1', memberId: 'LAB/GOV/1', serialNumber: '01', notAfter: '2027-01-01T00:00:00.000Z' })
    upsertOcspFailure(db, { certId: 'c1', error: 'responder down', failedAt: '2026-01-02T00:00:00.000Z' })
    expect(findOcspFailure(db, 'c1')).toEqual({ certId: 'c1', error: 'responder down', failedAt: '2026-01-02T00:00:00.000Z' })
    const ocsp = { certId: 'c1', responseDer: Buffer.from([4]), status: 'good' as const, thisUpdate: 't1', nextUpdate: null, revocationTime: null, fetchedAt: 'f1', producedAt: 'p1' }
    upsertOcspRow(db, ocsp)
    upsertOcspRow(db, { ...ocsp, thisUpdate: 't2', producedAt: 'p2' })
    expect(findOcspRow(db, 'c1')).toMatchObject({ status: 'good', thisUpdate: 't2', producedAt: 'p2', nextUpdate: null })
    expect(findOcspFailure(db, 'c1')).toBeUndefined()
    deleteKeyRow(db, 'k1')
    expect(listCertificateRows(db)).toEqual([])
    expect(listChainCertificates(db, 'c1')).toEqual([])
    expect(findOcspRow(db, 'c1')).toBeUndefined()
  })

  it("keeps one row per node, replaced by the node's next heartbeat", () => {
    const db = fresh()
    const row = {
      name: 'node-b', role: 'secondary' as const, version: '1.0.0', addresses: '[]', startedAt: 's', heartbeatAt: 'h1', readiness: '{"ready":false}', messageLog: '{}',
    }
    upsertClusterNode(db, row)
    upsertClusterNode(db, { ...row, name: 'node-a', role: 'primary' })
    upsertClusterNode(db, { ...row, heartbeatAt: 'h2', readiness: '{"ready":true}' })
    expect(listClusterNodes(db).map((n) => [n.name, n.role, n.heartbeatAt, n.readiness])).toEqual([
      ['node-a', 'primary', 'h1', '{"ready":false}'], ['node-b', 'secondary', 'h2', '{"ready":true}'],
    ])
    expect(() => upsertClusterNode(db, { ...row, name: 'node-c', role: 'boss' as 'primary' })).toThrow(/CHECK constraint failed|violates check constraint/)
  })
})
