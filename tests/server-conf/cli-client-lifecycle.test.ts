import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memberId } from '@shared/domain/identifiers'
import { listAuditEntries } from '../../src-main/audit-log'
import { parseSharedParameters } from '../../src-main/global-conf'
import { initLab, openLab } from '../../src-main/lab'
import { closeDatabase, openDatabase } from '../../src-main/platform'
import { runGatehouse } from '../support/cli'
import { runGatehouseInProcess } from '../support/cli-in-process'
import { makeCsr } from '../lab/lab-test-support'

/**
 * `gatehouse client register|unregister|disable|enable|delete|set-is-auth`, `service update|delete`, `endpoint delete`,
 * `group delete|remove-member` on a server of a lab instance, with X-Road's refusals reported as coded failures (exit 1)
 * and every change in the audit log. `client register|unregister` are management requests to the central server: before
 * global configuration names its management service they are refused before anything is sent and leave the state as
 * it was (the requests themselves are sent in tests/admin/clients-admin.test.ts and tests/management), and nothing
 * here changes the lab's registry.
 *
 * The commands run in this process through the CLI's own `runCli` (same exit codes, stdout and stderr); `init` and one
 * refusal run as real `gatehouse` processes, so the binary's start-up, exit code and stderr are proven end to end too.
 */
let dir: string
let dataDir: string
const owner = memberId('LAB', 'GOV', '1234')

async function run(args: string[]): Promise<{ status: number; out: Record<string, unknown>; stderr: string; stdout: string }> {
  const result = await runGatehouseInProcess([...args, '--data-dir', dataDir, '--json'])
  return { status: result.status, out: JSON.parse(result.stdout.trim() || '{}') as Record<string, unknown>, stderr: result.stderr, stdout: result.stdout }
}

async function clientState(id: string): Promise<string | undefined> {
  return ((await run(['client', 'list'])).out.clients as Array<{ id: string; state: string }>).find((c) => c.id === id)?.state
}

function labClientsOfSs1(): string[] {
  const lab = openLab(join(dataDir, 'lab'))
  try {
    const shared = parseSharedParameters(readFileSync(lab.regenerateConfiguration().sharedParams))
    return (shared.securityServers[0]?.clients ?? []).map((c) => (c.objectType === 'SUBSYSTEM' ? c.subsystemCode : c.memberCode))
  } finally {
    lab.close()
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-lifecycle-'))
  dataDir = join(dir, 'data')
  const labDir = join(dataDir, 'lab')
  await initLab(labDir, { keyAlgorithm: 'ec-p256' })
  const lab = openLab(labDir)
  lab.addMember(owner, 'Agency')
  lab.addSecurityServer(owner, 'SS1', '127.0.0.1', (await lab.issueCertificate((await makeCsr('C=LAB, CN=SS1')).pem, 'auth')).der)
  const anchor = lab.paths.anchor
  lab.close()
  const init = runGatehouse(['init', '--data-dir', dataDir, '--anchor', anchor, '--owner', 'LAB/GOV/1234', '--server-code', 'SS1'])
  expect(init.status, init.stderr).toBe(0)
}, 60_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('gatehouse client lifecycle', () => {
  it('sends no registration or deletion without global configuration; disables, enables and deletes a subsystem', async () => {
    expect((await run(['client', 'add', '--client', 'LAB/GOV/1234/SUB'])).status).toBe(0)
    const unsent = await run(['client', 'register', '--client', 'LAB/GOV/1234/SUB'])
    expect(unsent.status).toBe(1)
    expect(unsent.out).toMatchObject({ ok: false, code: 'global_conf_outdated' })
    expect(await clientState('LAB/GOV/1234/SUB')).toBe('SAVED')
    expect(labClientsOfSs1()).toEqual([])

    // REGISTERED is what global configuration would make it once the central server approved.
    expect((await run(['client', 'set-state', '--client', 'LAB/GOV/1234/SUB', '--state', 'REGISTERED'])).status).toBe(0)
    expect((await run(['client', 'register', '--client', 'LAB/GOV/1234/SUB'])).out).toMatchObject({ ok: false, code: 'action_not_possible' })
    expect((await run(['client', 'disable', '--client', 'LAB/GOV/1234/SUB'])).out).toMatchObject({ client: { state: 'DISABLED' } })
    expect((await run(['client', 'enable', '--client', 'LAB/GOV/1234/SUB'])).out).toMatchObject({ client: { state: 'REGISTERED' } })
    expect((await run(['client', 'set-is-auth', '--client', 'LAB/GOV/1234/SUB', '--mode', 'sslnoauth'])).out).toMatchObject({ client: { isAuthentication: 'SSLNOAUTH' } })
    expect((await run(['client', 'set-is-auth', '--client', 'LAB/GOV/1234/SUB', '--mode', 'https'])).status).toBe(2)

    const refused = await run(['client', 'delete', '--client', 'LAB/GOV/1234/SUB'])
    expect(refused.status).toBe(1)
    expect(refused.out).toMatchObject({ ok: false, code: 'action_not_possible' })
    expect((await run(['client', 'unregister', '--client', 'LAB/GOV/1234/SUB'])).out).toMatchObject({ ok: false, code: 'global_conf_outdated' })
    expect(await clientState('LAB/GOV/1234/SUB')).toBe('REGISTERED')
    expect((await run(['client', 'unregister', '--client', 'LAB/GOV/1234/SUB', '--out', 'x.xml'])).status).toBe(2)

    expect((await run(['client', 'set-state', '--client', 'LAB/GOV/1234/SUB', '--state', 'DELETION_IN_PROGRESS'])).status).toBe(0)
    expect((await run(['service', 'add', '--client', 'LAB/GOV/1234/SUB', '--code', 'pets', '--url', 'http://127.0.0.1:9/pets'])).status).toBe(0)
    const deleted = await run(['client', 'delete', '--client', 'LAB/GOV/1234/SUB'])
    expect(deleted.status, deleted.stderr).toBe(0)
    expect(deleted.out).toMatchObject({ ok: true, removed: { services: ['LAB/GOV/1234/SUB/pets'], accessRights: 0, localGroups: [] } })
    expect(((await run(['client', 'list'])).out.clients as Array<{ id: string }>).map((c) => c.id)).toEqual(['LAB/GOV/1234'])
  }, 30_000)

  it('refuses to register, unregister (while SAVED) or delete the owner member and says why', async () => {
    // As X-Road's ClientService: the state is checked before the owner, and the owner here is still SAVED.
    const reasons = { register: /owner member is registered with the server itself/, unregister: /cannot unregister client with status SAVED/, delete: /owns this security server/ }
    for (const [command, code] of [['register', 'cannot_register_owner'], ['unregister', 'action_not_possible'], ['delete', 'cannot_delete_owner']] as const) {
      const args = ['client', command, '--client', 'LAB/GOV/1234', '--data-dir', dataDir]
      // One refusal through a real `gatehouse` process: its exit code and stderr as a shell script sees them.
      const result = command === 'register' ? runGatehouse(args) : await runGatehouseInProcess(args)
      expect(result.status, command).toBe(1)
      expect(result.stderr).toContain(`[${code}]`)
      expect(result.stderr).toMatch(reasons[command])
    }
  }, 60_000)
})

describe('gatehouse service, endpoint and group changes', () => {
  it('updates and deletes a service and an endpoint, removes a group member and deletes a group, naming lost rights', async () => {
    expect((await run(['client', 'add', '--client', 'LAB/GOV/1234/PROV', '--state', 'REGISTERED'])).status).toBe(0)
    expect((await run(['service', 'add', '--client', 'LAB/GOV/1234/PROV', '--code', 'pets', '--url', 'http://127.0.0.1:9/pets'])).status).toBe(0)
    const updated = await run(['service', 'update', '--service', 'LAB/GOV/1234/PROV/pets', '--url', 'https://pets.internal/v2', '--timeout', '9', '--no-ssl-verify'])
    expect(updated.status, updated.stderr).toBe(0)
    expect(updated.out).toMatchObject({ service: { url: 'https://pets.internal/v2', timeoutSeconds: 9, sslVerify: false } })
    expect((await run(['service', 'update', '--service', 'LAB/GOV/1234/PROV/pets', '--ssl-verify'])).out).toMatchObject({ service: { sslVerify: true, timeoutSeconds: 9 } })
    expect((await run(['service', 'update', '--service', 'LAB/GOV/1234/PROV/pets'])).status).toBe(2)
    expect((await run(['service', 'update', '--service', 'LAB/GOV/1234/PROV/pets', '--url', 'ftp://x'])).out).toMatchObject({ code: 'service_malformed_url' })

    expect((await run(['endpoint', 'add', '--service', 'LAB/GOV/1234/PROV/pets', '--method', 'GET', '--path', '/pets/*'])).status).toBe(0)
    expect((await run(['acl', 'grant', '--service', 'LAB/GOV/1234/PROV/pets', '--subject', 'LAB/COM/77/APP', '--endpoint', 'GET /pets/*'])).status).toBe(0)
    expect((await run(['endpoint', 'delete', '--service', 'LAB/GOV/1234/PROV/pets', '--method', '*', '--path', '**'])).out).toMatchObject({ code: 'illegal_generated_endpoint_remove' })
    const endpoint = await run(['endpoint', 'delete', '--service', 'LAB/GOV/1234/PROV/pets', '--method', 'get', '--path', '/pets/*'])
    expect(endpoint.out).toMatchObject({ ok: true, accessRightsRemoved: ['LAB/COM/77/APP'] })

    expect((await run(['group', 'add', '--client', 'LAB/GOV/1234/PROV', '--code', 'friends'])).status).toBe(0)
    expect((await run(['group', 'member', '--client', 'LAB/GOV/1234/PROV', '--code', 'friends', '--member', 'LAB/COM/77/APP'])).status).toBe(0)
    expect((await run(['group', 'remove-member', '--client', 'LAB/GOV/1234/PROV', '--code', 'friends', '--member', 'LAB/COM/77/APP'])).out).toMatchObject({ ok: true })
    expect((await run(['group', 'remove-member', '--client', 'LAB/GOV/1234/PROV', '--code', 'friends', '--member', 'LAB/COM/77/APP'])).out).toMatchObject({ code: 'not_found' })
    expect((await run(['acl', 'grant', '--service', 'LAB/GOV/1234/PROV/pets', '--subject', 'LOCALGROUP:friends'])).status).toBe(0)
    const group = await run(['group', 'delete', '--client', 'LAB/GOV/1234/PROV', '--code', 'friends'])
    expect(group.out).toMatchObject({ ok: true, accessRightsRemoved: [{ service: 'LAB/GOV/1234/PROV/pets', method: '*', path: '**' }] })

    expect((await run(['acl', 'grant', '--service', 'LAB/GOV/1234/PROV/pets', '--subject', 'LAB/COM/77/APP'])).status).toBe(0)
    const text = await runGatehouseInProcess(['service', 'delete', '--service', 'LAB/GOV/1234/PROV/pets', '--data-dir', dataDir])
    expect(text.status, text.stderr).toBe(0)
    expect(text.stdout).toContain('LAB/COM/77/APP lost access to * **')
    expect((await run(['service', 'list'])).out).toEqual({ services: [] })

    const db = openDatabase(join(dataDir, 'serverconf.sqlite'))
    try {
      const events = listAuditEntries(db).map((e) => `${e.event}:${e.outcome}`)
      for (const event of ['management.registerClient:failure', 'management.unregisterClient:failure', 'client.delete:failure', 'client.delete:success', 'service.update:success', 'service.delete:success', 'endpoint.delete:success', 'group.delete:success']) {
        expect(events).toContain(event)
      }
    } finally {
      closeDatabase(db)
    }
  }, 30_000)
})
