import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeIdentifier, globalGroupId, localGroupId, memberId, subsystemId } from '@shared/domain/identifiers'
import { clientError, ManualClock, migrate, SecurityServerError, type SqlWriter } from '../../src-main/platform'
import { createServerConf, serverConfMigrations, type ServerConf } from '../../src-main/server-conf'
import { describeStorage } from '../support/postgres'

/**
 * The everyday changes after setup (issue 11): registering, unregistering, disabling and deleting clients with what
 * goes with them, editing and deleting services, endpoints and local groups, and the refusals X-Road makes (owner,
 * wrong state, generated endpoint) — on a real SQLite file and on a real PostgreSQL (the repository contract, issue 18).
 */
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

describeStorage('server configuration lifecycle', (engine) => {
  let db: SqlWriter
  let conf: ServerConf
  beforeEach(() => {
    db = engine.open()
    migrate(db, [serverConfMigrations])
    conf = createServerConf(db, new ManualClock('2025-01-02T03:04:05Z'))
    conf.initialize(owner, 'SS1')
  })
  afterEach(() => engine.close(db))

  const count = (table: string): number => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n

  describe('client registration states', () => {
    it('registers a SAVED client, unregisters it and refuses the transitions X-Road refuses', () => {
      conf.addClient(provider)
      expect(codeOf(() => conf.enableClient(provider))).toBe('action_not_possible')
      expect(codeOf(() => conf.unregisterClient(provider))).toBe('action_not_possible')
      const sent: string[] = []
      expect(conf.registerClient(provider, (c) => sent.push(`${c.state} ${encodeIdentifier(c.id)}`)).state).toBe('REGISTRATION_IN_PROGRESS')
      expect(sent).toEqual(['SAVED SUBSYSTEM:DEV/GOV/1234/PROVIDER'])
      expect(codeOf(() => conf.registerClient(provider))).toBe('action_not_possible')
      expect(codeOf(() => conf.deleteClient(provider))).toBe('action_not_possible')
      expect(conf.unregisterClient(provider).state).toBe('DELETION_IN_PROGRESS')
      expect(codeOf(() => conf.registerClient(subsystemId('DEV', 'GOV', '1234', 'NOPE')))).toBe('not_found')
    })

    it('leaves the state unchanged when the request cannot be sent', () => {
      conf.addClient(provider)
      const refused = codeOf(() => conf.registerClient(provider, () => {
        throw clientError('unknown_member', 'not in the lab')
      }))
      expect(refused).toBe('unknown_member')
      expect(conf.findClient(provider)?.state).toBe('SAVED')
    })

    it('deletes a disabled client only once global configuration no longer lists it on this server', () => {
      conf.addClient(provider, 'DISABLED')
      expect(codeOf(() => conf.deleteClient(provider))).toBe('action_not_possible')
      expect(conf.deleteClient(provider, { removedFromInstance: true }).services).toEqual([])
      conf.addClient(consumer, 'REGISTERED')
      expect(codeOf(() => conf.deleteClient(consumer, { removedFromInstance: true }))).toBe('action_not_possible')
    })

    it('disables only a registered client and enables only a disabled one', () => {
      conf.addClient(provider, 'REGISTERED')
      expect(conf.disableClient(provider).state).toBe('DISABLED')
      expect(conf.isRegisteredClient(provider)).toBe(false)
      expect(codeOf(() => conf.disableClient(provider))).toBe('action_not_possible')
      expect(conf.enableClient(provider).state).toBe('REGISTERED')
      expect(conf.disableClient(provider).state).toBe('DISABLED')
      expect(conf.unregisterClient(provider).state).toBe('DELETION_IN_PROGRESS')
    })

    it('refuses to register, unregister or delete the owner member, with the reason', () => {
      expect(codeOf(() => conf.registerClient(owner))).toBe('cannot_register_owner')
      expect(codeOf(() => conf.unregisterClient(owner))).toBe('cannot_unregister_owner')
      expect(codeOf(() => conf.deleteClient(owner))).toBe('cannot_delete_owner')
      expect(conf.findClient(owner)?.state).toBe('SAVED')
    })
  })

  describe('deleting a client', () => {
    it('takes its services, endpoints, access rights, local groups and IS certificates along, and reports them', () => {
      conf.addClient(provider)
      const svc = conf.addService(provider, { code: 'orders', url: 'http://127.0.0.1:9/api' }).serviceId
      conf.addEndpoint(svc, { method: 'GET', path: '/orders/*' })
      conf.grantAccess(svc, consumer)
      conf.grantAccess(svc, other, { method: 'GET', path: '/orders/*' })
      conf.addLocalGroup(provider, 'partners', 'Partners')
      conf.addLocalGroupMember(provider, 'partners', consumer)
      conf.addIsCertificate(provider, new Uint8Array([1, 2, 3]))
      const removal = conf.deleteClient(provider)
      expect(removal).toEqual({ services: [svc], accessRights: 2, localGroups: ['partners'], isCertificates: 1, rightsAsSubject: 0, groupMemberships: 0 })
      expect(conf.findClient(provider)).toBeUndefined()
      for (const table of ['services', 'endpoints', 'access_rights', 'local_groups', 'local_group_members', 'client_is_certificates']) {
        expect(count(table), table).toBe(0)
      }
    })

    it('removes it from other clients\' access rights and local groups only when asked', () => {
      conf.addClient(provider, 'REGISTERED')
      conf.addClient(consumer)
      conf.addClient(other)
      const svc = conf.addService(provider, { code: 'orders', url: 'http://127.0.0.1:9/api' }).serviceId
      conf.grantAccess(svc, consumer)
      conf.grantAccess(svc, other)
      conf.addLocalGroup(provider, 'partners', 'Partners')
      conf.addLocalGroupMember(provider, 'partners', consumer)
      conf.addLocalGroupMember(provider, 'partners', other)
      expect(conf.deleteClient(other)).toMatchObject({ services: [], rightsAsSubject: 0, groupMemberships: 0 })
      expect(conf.listAccessRights(svc).map((r) => encodeIdentifier(r.subject))).toContain(encodeIdentifier(other))
      expect(conf.deleteClient(consumer, { removeAsSubject: true })).toMatchObject({ rightsAsSubject: 1, groupMemberships: 1 })
      expect(conf.listAccessRights(svc).map((r) => encodeIdentifier(r.subject))).toEqual([encodeIdentifier(other)])
      expect(conf.localGroupMembers(provider, 'partners')).toEqual([other])
    })
  })

  describe('services and endpoints', () => {
    it('edits URL, timeout and TLS verification, and deletes a service with its endpoints and rights', () => {
      conf.addClient(provider, 'REGISTERED')
      const svc = conf.addService(provider, { code: 'orders', url: 'http://127.0.0.1:9/api' }).serviceId
      expect(conf.updateService(svc, { url: 'https://orders.internal/v2', timeoutSeconds: 12, sslVerify: false })).toMatchObject({
        url: 'https://orders.internal/v2', timeoutSeconds: 12, sslVerify: false,
      })
      expect(codeOf(() => conf.updateService(svc, { url: 'gopher://x' }))).toBe('service_malformed_url')
      expect(conf.findService(svc)?.url).toBe('https://orders.internal/v2')
      conf.addEndpoint(svc, { method: 'GET', path: '/orders/*' })
      conf.grantAccess(svc, consumer)
      const removed = conf.deleteService(svc)
      expect(removed.map((r) => encodeIdentifier(r.subject))).toEqual([encodeIdentifier(consumer)])
      expect(conf.findService(svc)).toBeUndefined()
      expect(count('endpoints')).toBe(0)
      expect(count('access_rights')).toBe(0)
      expect(codeOf(() => conf.deleteService(svc))).toBe('unknown_service')
    })

    it('edits and deletes an endpoint, keeping its rights on edit; the generated endpoint is neither editable nor deletable', () => {
      conf.addClient(provider, 'REGISTERED')
      const svc = conf.addService(provider, { code: 'orders', url: 'http://127.0.0.1:9/api' }).serviceId
      conf.addEndpoint(svc, { method: 'GET', path: '/orders/*' })
      conf.addEndpoint(svc, { method: 'POST', path: '/orders' })
      conf.grantAccess(svc, consumer, { method: 'GET', path: '/orders/*' })
      conf.grantAccess(svc, other)
      const edited = conf.updateEndpoint(svc, { method: 'GET', path: '/orders/*' }, { method: 'put', path: '/orders/**' })
      expect(edited).toEqual({ serviceId: svc, method: 'PUT', path: '/orders/**', generated: false })
      expect(conf.listAccessRights(svc).find((r) => r.subject.objectType === 'SUBSYSTEM' && r.subject.subsystemCode === 'CLIENT')?.endpoint).toEqual({ method: 'PUT', path: '/orders/**' })
      expect(codeOf(() => conf.updateEndpoint(svc, { method: 'PUT', path: '/orders/**' }, { method: 'POST', path: '/orders' }))).toBe('conflict')
      expect(codeOf(() => conf.updateEndpoint(svc, { method: 'PUT', path: '/orders/**' }, { method: 'GET', path: 'orders' }))).toBe('validation_failed')
      expect(codeOf(() => conf.updateEndpoint(svc, { method: '*', path: '**' }, { method: 'GET', path: '/x' }))).toBe('illegal_generated_endpoint_update')
      expect(codeOf(() => conf.deleteEndpoint(svc, { method: '*', path: '**' }))).toBe('illegal_generated_endpoint_remove')
      expect(codeOf(() => conf.deleteEndpoint(svc, { method: 'GET', path: '/nothing' }))).toBe('not_found')
      const removed = conf.deleteEndpoint(svc, { method: 'PUT', path: '/orders/**' })
      expect(removed.map((r) => encodeIdentifier(r.subject))).toEqual([encodeIdentifier(consumer)])
      expect(conf.listEndpoints(svc).map((e) => `${e.method} ${e.path}`)).toEqual(['* **', 'POST /orders'])
      expect(conf.listAccessRights(svc).map((r) => encodeIdentifier(r.subject))).toEqual([encodeIdentifier(other)])
    })
  })

  describe('local groups', () => {
    it('edits the description and deletes a group with the access rights naming it on the owner\'s services only', () => {
      conf.addClient(provider, 'REGISTERED')
      const second = subsystemId('DEV', 'GOV', '1234', 'SECOND')
      conf.addClient(second, 'REGISTERED')
      const svc = conf.addService(provider, { code: 'orders', url: 'http://127.0.0.1:9/api' }).serviceId
      const svc2 = conf.addService(second, { code: 'files', url: 'http://127.0.0.1:9/files' }).serviceId
      conf.addLocalGroup(provider, 'partners', 'Partners')
      conf.addLocalGroup(second, 'partners', 'Partners of the second')
      conf.addLocalGroupMember(provider, 'partners', consumer)
      conf.grantAccess(svc, localGroupId('partners'))
      conf.grantAccess(svc, globalGroupId('DEV', 'security-server-owners'))
      conf.grantAccess(svc2, localGroupId('partners'))
      expect(conf.updateLocalGroup(provider, 'partners', 'Partner agencies')).toEqual({ owner: provider, groupCode: 'partners', description: 'Partner agencies', members: [consumer] })
      expect(codeOf(() => conf.updateLocalGroup(provider, 'partners', 'x'.repeat(1001)))).toBe('validation_failed')
      expect(codeOf(() => conf.updateLocalGroup(provider, 'nobody', 'x'))).toBe('not_found')
      const removed = conf.deleteLocalGroup(provider, 'partners')
      expect(removed.map((r) => [r.serviceId.serviceCode, encodeIdentifier(r.subject)])).toEqual([['orders', 'LOCALGROUP:partners']])
      expect(conf.listLocalGroups(provider)).toEqual([])
      expect(conf.listAccessRights(svc).map((r) => r.subject.objectType)).toEqual(['GLOBALGROUP'])
      expect(conf.listAccessRights(svc2).map((r) => encodeIdentifier(r.subject))).toEqual(['LOCALGROUP:partners'])
      expect(conf.listLocalGroups(second).map((g) => g.groupCode)).toEqual(['partners'])
      expect(count('local_group_members')).toBe(0)
      expect(codeOf(() => conf.deleteLocalGroup(provider, 'partners'))).toBe('not_found')
    })
  })
})
