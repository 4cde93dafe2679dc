import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { globalGroupId, localGroupId, memberId, serviceId, subsystemId } from '@shared/domain/identifiers'
import { decideAccess } from '../../src-main/access-control'
import { ManualClock, migrate, SecurityServerError, type SqlWriter } from '../../src-main/platform'
import {
  createServerConf, deleteSystemParameter, getManagementRequestRow, insertManagementRequest, listManagementRequestRows, readSystemParameters,
  serverConfMigrations, settleManagementRequest, writeSystemParameter, type ServerConf,
} from '../../src-main/server-conf'
import { describeStorage } from '../support/postgres'

const owner = memberId('DEV', 'GOV', '1234')
const provider = subsystemId('DEV', 'GOV', '1234', 'PROVIDER')
const consumer = subsystemId('DEV', 'COM', '4422', 'CLIENT')
const other = subsystemId('DEV', 'COM', '9999', 'OTHER')

function codeOf(work: () => unknown): string | undefined {
  try {
    work()
  } catch (error) {
    return error instanceof SecurityServerError ? error.code : `not coded: ${String(error)}`
  }
  return undefined
}

/** The server configuration's repository contract: the same use cases on SQLite and on PostgreSQL (issue 18). */
describeStorage('server configuration', (engine) => {
  let db: SqlWriter
  let conf: ServerConf
  beforeEach(() => {
    db = engine.open()
    migrate(db, [serverConfMigrations])
    conf = createServerConf(db, new ManualClock('2025-01-02T03:04:05Z'))
  })
  afterEach(() => engine.close(db))

  describe('createServerConf', () => {
    it('initializes once, stores the anchor file and makes the owner a client', () => {
      const identity = conf.initialize(owner, 'SS1', { sourcePath: '/tmp/anchor.xml', content: Buffer.from('<anchor/>') })
      expect(identity.serverId).toMatchObject({ objectType: 'SERVER', memberCode: '1234', serverCode: 'SS1' })
      expect(conf.anchorFile()?.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(Buffer.from(conf.anchorFile()?.content ?? []).toString()).toBe('<anchor/>')
      expect(conf.findClient(owner)?.state).toBe('SAVED')
      expect(codeOf(() => conf.initialize(owner, 'SS2'))).toBe('already_initialized')
    })

    it('keeps clients with state and IS authentication and TLS certificates', () => {
      conf.addClient(provider, 'REGISTERED')
      conf.addClient(consumer)
      expect(codeOf(() => conf.addClient(consumer))).toBe('conflict')
      expect(conf.isRegisteredClient(provider)).toBe(true)
      expect(conf.isRegisteredClient(consumer)).toBe(false)
      expect(conf.isRegisteredClient(other)).toBe(false)
      conf.setClientState(consumer, 'DISABLED')
      expect(conf.findClient(consumer)?.state).toBe('DISABLED')
      expect(codeOf(() => conf.setClientState(consumer, 'NOPE' as never))).toBe('validation_failed')
      expect(conf.setIsAuthentication(provider, 'SSLAUTH').isAuthentication).toBe('SSLAUTH')
      const cert = conf.addIsCertificate(provider, new Uint8Array([1, 2, 3]))
      expect(cert.sha256).toBe('039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81')
      expect(codeOf(() => conf.addIsCertificate(provider, new Uint8Array([1, 2, 3])))).toBe('cert_exists')
      expect(conf.listIsCertificates(provider)).toHaveLength(1)
      conf.removeIsCertificate(provider, cert.sha256)
      expect(conf.listIsCertificates(provider)).toHaveLength(0)
      expect(conf.listClients().map((c) => c.id)).toHaveLength(2)
      expect(codeOf(() => conf.setIsAuthentication(other, 'NOSSL'))).toBe('not_found')
    })

    it('adds REST services with a base endpoint, validates URL and timeout, disables with a notice', () => {
      conf.addClient(provider, 'REGISTERED')
      const svc = conf.addService(provider, { code: 'orders', url: 'http://127.0.0.1:8080/api', timeoutSeconds: 30, sslVerify: false })
      expect(svc).toMatchObject({ url: 'http://127.0.0.1:8080/api', timeoutSeconds: 30, sslVerify: false, disabled: false })
      expect(conf.listEndpoints(svc.serviceId)).toEqual([{ serviceId: svc.serviceId, method: '*', path: '**', generated: true }])
      expect(codeOf(() => conf.addService(provider, { code: 'orders', url: 'http://x' }))).toBe('conflict')
      expect(codeOf(() => conf.addService(provider, { code: 'bad', url: 'ftp://x/y' }))).toBe('service_malformed_url')
      expect(codeOf(() => conf.addService(provider, { code: 'bad', url: 'not a url' }))).toBe('service_malformed_url')
      expect(codeOf(() => conf.addService(provider, { code: 'bad', url: 'http://u:p@x/' }))).toBe('service_malformed_url')
      expect(codeOf(() => conf.addService(provider, { code: 'bad', url: 'http://x', timeoutSeconds: 0 }))).toBe('validation_failed')
      expect(codeOf(() => conf.addService(provider, { code: 'a/b', url: 'http://x' }))).toBe('invalid_identifier')
      const disabled = conf.setServiceEnabled(svc.serviceId, false, 'Down for maintenance')
      expect(disabled).toMatchObject({ disabled: true, disabledNotice: 'Down for maintenance' })
      expect(conf.setServiceEnabled(svc.serviceId, true).disabled).toBe(false)
      expect(conf.updateService(svc.serviceId, { timeoutSeconds: 5 }).timeoutSeconds).toBe(5)
      expect(codeOf(() => conf.findService(serviceId(provider, 'nope')) ?? conf.listEndpoints(serviceId(provider, 'nope')))).toBe('unknown_service')
    })

    it('grants and revokes rights per service and per endpoint, feeding decideAccess', () => {
      conf.addClient(provider, 'REGISTERED')
      const svc = conf.addService(provider, { code: 'orders', url: 'https://svc.example/api' }).serviceId
      conf.addEndpoint(svc, { method: 'get', path: '/items/*' })
      expect(codeOf(() => conf.addEndpoint(svc, { method: 'GET', path: '/items/*' }))).toBe('conflict')
      expect(codeOf(() => conf.addEndpoint(svc, { method: 'FETCH', path: '/x' }))).toBe('validation_failed')
      expect(codeOf(() => conf.addEndpoint(svc, { method: 'GET', path: '/a/../b' }))).toBe('validation_failed')
      expect(conf.grantAccess(svc, consumer, { method: 'GET', path: '/items/*' })).toBe(true)
      expect(conf.grantAccess(svc, consumer, { method: 'GET', path: '/items/*' })).toBe(false)
      expect(codeOf(() => conf.grantAccess(svc, consumer, { method: 'POST', path: '/nothing' }))).toBe('not_found')
      conf.addLocalGroup(provider, 'partners', 'Partner agencies')
      expect(codeOf(() => conf.addLocalGroup(provider, 'partners', 'again'))).toBe('conflict')
      expect(conf.addLocalGroupMember(provider, 'partners', other)).toBe(true)
      expect(codeOf(() => conf.grantAccess(svc, localGroupId('missing')))).toBe('not_found')
      conf.grantAccess(svc, localGroupId('partners'))
      conf.grantAccess(svc, globalGroupId('DEV', 'security-server-owners'))
      expect(conf.listAccessRights(svc).map((r) => [r.subject.objectType, r.endpoint.method, r.endpoint.path])).toEqual([
        ['SUBSYSTEM', 'GET', '/items/*'],
        ['LOCALGROUP', '*', '**'],
        ['GLOBALGROUP', '*', '**'],
      ])
      const groups = {
        localGroupMembers: (code: string) => conf.localGroupMembers(provider, code),
        isGlobalGroupMember: () => false,
      }
      const ask = (client: typeof consumer, method: string, path: string) =>
        decideAccess({ client, service: svc, method, path }, conf.accessRightsFor(svc), groups)
      expect(ask(consumer, 'GET', '/items/1')).toEqual({ allowed: true, normalizedPath: '/items/1' })
      expect(ask(consumer, 'POST', '/items/1')).toMatchObject({ allowed: false, code: 'access_denied' })
      expect(ask(other, 'DELETE', '/anything/at/all')).toMatchObject({ allowed: true })
      conf.removeLocalGroupMember(provider, 'partners', other)
      expect(ask(other, 'GET', '/items/1')).toMatchObject({ allowed: false, code: 'access_denied' })
      conf.revokeAccess(svc, consumer, { method: 'GET', path: '/items/*' })
      expect(ask(consumer, 'GET', '/items/1')).toMatchObject({ allowed: false, code: 'access_denied' })
      expect(codeOf(() => conf.revokeAccess(svc, consumer, { method: 'GET', path: '/items/*' }))).toBe('not_found')
      expect(conf.accessRightsFor(serviceId(provider, 'unknown'))).toBeUndefined()
      expect(conf.listLocalGroups(provider)).toEqual([{ owner: provider, groupCode: 'partners', description: 'Partner agencies', members: [] }])
    })

    it('rolls a failed use case back as a whole', () => {
      conf.addClient(provider)
      expect(codeOf(() => conf.addService(provider, { code: 'x', url: 'http://ok', timeoutSeconds: 99999 }))).toBe('validation_failed')
      expect(conf.listServices()).toEqual([])
    })
  })

  describe('time-stamping services, system parameters, re-initialization and management requests', () => {
    it('keeps the selected time-stamping services in order and replaces the selection as a whole', () => {
      expect(conf.selectTimestampingServices(['TSA 2', ' TSA 1 '])).toEqual(['TSA 2', 'TSA 1'])
      expect(conf.selectTimestampingServices(['TSA 1'])).toEqual(['TSA 1'])
      expect(codeOf(() => conf.selectTimestampingServices(['A', 'A']))).toBe('validation_failed')
      expect(conf.timestampingServices()).toEqual(['TSA 1'])
    })

    it('re-initializes with force, replacing identity and anchor file in place', () => {
      conf.initialize(owner, 'SS1', { sourcePath: '/tmp/a.xml', content: Buffer.from('<a/>') })
      const identity = conf.initialize(owner, 'SS9', { sourcePath: '/tmp/b.xml', content: Buffer.from('<b/>') }, { force: true })
      expect(identity.serverId.serverCode).toBe('SS9')
      expect(conf.anchorFile()?.sourcePath).toBe('/tmp/b.xml')
      expect(Buffer.from(conf.anchorFile()?.content ?? []).toString()).toBe('<b/>')
      expect(conf.listClients().map((c) => c.id)).toEqual([owner])
    })

    it('writes, overwrites and deletes system parameters', () => {
      writeSystemParameter(db, 'a', '1', new Date('2025-01-01T00:00:00Z'))
      writeSystemParameter(db, 'a', '2', new Date('2025-01-02T00:00:00Z'))
      writeSystemParameter(db, 'b', 'x', new Date('2025-01-02T00:00:00Z'))
      expect(readSystemParameters(db)).toEqual(new Map([['a', '2'], ['b', 'x']]))
      deleteSystemParameter(db, 'a')
      expect(readSystemParameters(db)).toEqual(new Map([['b', 'x']]))
    })

    it('records management requests, newest first, an open one superseded by the next of its kind', () => {
      const subject = 'SUBSYSTEM:DEV/GOV/1234/PROVIDER'
      const first = insertManagementRequest(db, { service: 'clientReg', subject, messageId: 'm1', requestId: 11, sentAt: 't1', sentBy: 'admin' }, ['clientReg', 'clientDeletion'])
      const second = insertManagementRequest(db, { service: 'clientDeletion', subject, messageId: 'm2', sentAt: 't2' }, ['clientReg', 'clientDeletion'])
      const other = insertManagementRequest(db, { service: 'authCertReg', subject: 'authcert:ab', detail: 'ss.example', messageId: 'm3', requestId: 2 ** 40, sentAt: 't3' }, [])
      expect(second).toBeGreaterThan(first)
      expect(listManagementRequestRows(db).map((r) => [r.id, r.status, r.settled_at])).toEqual([
        [other, 'SUBMITTED', null], [second, 'SUBMITTED', null], [first, 'SUPERSEDED', 't2'],
      ])
      expect(listManagementRequestRows(db, { subject, openOnly: true }).map((r) => r.message_id)).toEqual(['m2'])
      expect(listManagementRequestRows(db, { limit: 1 }).map((r) => r.id)).toEqual([other])
      settleManagementRequest(db, second, 'CONFIRMED', 't4')
      settleManagementRequest(db, second, 'SUPERSEDED', 't5')
      expect(getManagementRequestRow(db, second)).toMatchObject({ status: 'CONFIRMED', settled_at: 't4', request_id: null, sent_by: null })
      expect(getManagementRequestRow(db, other)).toMatchObject({ request_id: 2 ** 40, detail: 'ss.example' })
      expect(getManagementRequestRow(db, other + 100)).toBeUndefined()
    })
  })
})
