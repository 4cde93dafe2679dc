import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { GATEHOUSE_BIN } from '../support/cli'
import { runGatehouseInProcess } from '../support/cli-in-process'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath } from '../support/fixtures'

/**
 * `gatehouse service description …` against a WSDL served on loopback: add, list, refresh (warnings first, applied with
 * --yes), disable with a notice, an OpenAPI file, delete. `init` runs as a real `gatehouse` child process (started
 * asynchronously: this process serves the WSDL); the other commands run in this process through the CLI's own runCli.
 */
const ANCHOR = ['globalconf', 'dev-signed-V3-V6', 'anchor', 'configuration_anchor_CS_internal.xml']
const FIXTURES = join(__dirname, '..', 'fixtures', 'service-descriptions')
let dataDir: string
let http: Server
let base: string
let wsdl = readFileSync(join(FIXTURES, 'getrandom.wsdl'), 'utf8')

function spawned(args: string[]): Promise<{ status: number | null; out: Record<string, unknown>; stderr: string }> {
  const child = spawn(process.execPath, [GATEHOUSE_BIN, ...args, '--data-dir', dataDir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, out: JSON.parse(stdout.trim() || '{}') as Record<string, unknown>, stderr })))
}

async function run(args: string[]): Promise<{ status: number | null; out: Record<string, unknown>; stderr: string }> {
  const result = await runGatehouseInProcess([...args, '--data-dir', dataDir, '--json'])
  return { status: result.status, out: JSON.parse(result.stdout.trim() || '{}') as Record<string, unknown>, stderr: result.stderr }
}

describeFixtures('gatehouse service description', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-descriptions-'))
    http = createServer((req, res) => res.end(req.url === '/random.wsdl' ? wsdl : ''))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    expect((await spawned(['init', '--anchor', fixturePath(...ANCHOR), '--owner', 'DEV/GOV/1234', '--server-code', 'SS1'])).status).toBe(0)
    expect((await run(['client', 'add', '--client', 'DEV/GOV/1234/PROVIDER', '--state', 'REGISTERED'])).status).toBe(0)
  }, 120_000)
  afterAll(async () => {
    http?.closeAllConnections()
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()))
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('adds a WSDL, refreshes it after confirmation, disables it, adds an OpenAPI file and deletes', async () => {
    const added = await run(['service', 'description', 'add-wsdl', '--client', 'DEV/GOV/1234/PROVIDER', '--url', `${base}/random.wsdl`])
    expect(added.status, added.stderr).toBe(0)
    const description = added.out.description as { id: number; services: Array<{ id: string }> }
    expect(description.services.map((s) => s.id)).toEqual(['DEV/GOV/1234/PROVIDER/getRandom;v=v1', 'DEV/GOV/1234/PROVIDER/helloService;v=v2', 'DEV/GOV/1234/PROVIDER/listPeople'])
    const granted = await run(['acl', 'grant', '--service', 'DEV/GOV/1234/PROVIDER/getRandom;v=v1', '--subject', 'DEV/COM/5678/APP'])
    expect(granted.status, granted.stderr).toBe(0)

    wsdl = readFileSync(join(FIXTURES, 'getrandom-refreshed.wsdl'), 'utf8')
    const id = String(description.id)
    const preview = await run(['service', 'description', 'refresh', '--id', id])
    expect(preview.status).toBe(1)
    expect(preview.out).toMatchObject({ applied: false, warnings: [{ code: 'adding_services' }, { code: 'deleting_services', metadata: ['getRandom.v1', 'listPeople'] }] })
    expect(preview.out.accessRightsRemoved).toEqual([{ service: 'DEV/GOV/1234/PROVIDER/getRandom;v=v1', method: '*', path: '**', subject: 'DEV/COM/5678/APP' }])
    const applied = await run(['service', 'description', 'refresh', '--id', id, '--yes'])
    expect(applied.status, applied.stderr).toBe(0)
    expect(applied.out).toMatchObject({ applied: true })

    expect((await run(['service', 'description', 'disable', '--id', id, '--notice', 'Upgrade'])).out).toMatchObject({ description: { disabled: true, disabledNotice: 'Upgrade' } })
    const openapi = await run(['service', 'description', 'add-openapi', '--client', 'DEV/GOV/1234/PROVIDER', '--code', 'pets', '--file', join(FIXTURES, 'swagger2.json')])
    expect(openapi.status).toBe(1)
    expect(openapi.out).toMatchObject({ code: 'unsupported_openapi_version' })

    const listed = await run(['service', 'description', 'list', '--client', 'DEV/GOV/1234/PROVIDER'])
    expect((listed.out.descriptions as unknown[]).length).toBe(1)
    const deleted = await run(['service', 'description', 'delete', '--id', id])
    expect(deleted.out).toMatchObject({ ok: true, accessRightsRemoved: [] })
  })
})
