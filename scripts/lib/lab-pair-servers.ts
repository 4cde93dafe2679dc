import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { startLabServer, type RunningLabServer } from '../../src-main/lab'
import { loginAdmin, setupAdmin, type AdminClient } from './admin-client'
import type { Agency, LabPair } from './lab-pair'
import { startGatehouse, type Started } from './processes'

/**
 * Runs a lab pair: the lab's OCSP/TSA/configuration server in this process, each security server as its own
 * `gatehouse serve` child process, then unlocks each software token through the admin API when the server did not
 * log in by itself, and waits until both servers hold a verified global configuration.
 */
export interface RunningAgency {
  agency: Agency
  process: Started<ServeReady>
  admin: AdminClient
  clientProxyUrl: string
}

export interface RunningLabPair {
  lab: RunningLabServer
  consumer: RunningAgency
  provider: RunningAgency
  /** Milliseconds from start until both servers had global configuration. */
  startupMs: number
  /** Stops both security servers (SIGTERM, graceful); the lab's OCSP/TSA/configuration server keeps running. */
  stopServers(): Promise<void>
  /** Stops one side's server and puts another in its place (undefined: none for now), e.g. one restored from a backup. */
  replace(side: 'consumer' | 'provider', next: RunningAgency | undefined): Promise<void>
  stop(): Promise<void>
}

export interface ServeReady {
  ready: true
  listeners: Array<{ name: string; url: string }>
}

const isServeReady = (value: unknown): value is ServeReady => typeof value === 'object' && value !== null && (value as { ready?: unknown }).ready === true

/**
 * True when the built CLI bundle (out/main/cli.js, which `GATEHOUSE_USE_BUILD=1` runs) exists and is newer than
 * every source file under src-main/ and src-shared/, so it runs the code in the tree.
 */
export function haveBuild(): boolean {
  const root = resolve(__dirname, '../..')
  const bundle = join(root, 'out', 'main', 'cli.js')
  if (!existsSync(bundle)) return false
  const built = statSync(bundle).mtimeMs
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const path = join(dir, e.name)
      return Math.max(max, e.isDirectory() ? newest(path) : e.name.endsWith('.ts') ? statSync(path).mtimeMs : 0)
    }, 0)
  return built >= Math.max(newest(join(root, 'src-main')), newest(join(root, 'src-shared')))
}

interface TokenDto {
  id: string
  kind: string
  loggedIn: boolean
}

interface GlobalConfStatus {
  available: boolean
  expired: boolean
}

/**
 * How a security server process is started; both are `node bin/gatehouse.js serve --json`: `autologin` passes the
 * token PIN in GATEHOUSE_TOKEN_PIN so the token is logged in before the listeners start (X-Road's autologin);
 * `serve` logs the token in through the admin API after start.
 */
export type ServerRunner = 'serve' | 'autologin'

/**
 * Starts one agency's server and logs its software tokens in; `admin` is how the administrator signs in: `setup` makes
 * the first one (a new server), `login` uses the one the data directory already has (a restored server).
 */
export async function startAgency(
  agency: Agency, pin: string, runner: ServerRunner, useBuild: boolean, timeoutMs: number, admin: 'setup' | 'login' = 'setup',
): Promise<RunningAgency> {
  const child = await startGatehouse<ServeReady>(['serve', '--data-dir', agency.dataDir, '--json'], {
    env: { ...(useBuild ? { GATEHOUSE_USE_BUILD: '1' } : {}), ...(runner === 'autologin' ? { GATEHOUSE_TOKEN_PIN: pin } : {}) },
    isReady: isServeReady,
    timeoutMs,
  })
  try {
    const client = await (admin === 'setup' ? setupAdmin : loginAdmin)(agency.dataDir, agency.ports.admin)
    const tokens = await client.call<TokenDto[]>('tokens', 'list', [])
    for (const token of tokens) {
      if (token.kind === 'software' && !token.loggedIn) await client.call('tokens', 'login', [{ tokenId: token.id, pin }])
    }
    return { agency, process: child, admin: client, clientProxyUrl: `http://127.0.0.1:${agency.ports.clientProxyHttp}` }
  } catch (error) {
    await child.stop()
    throw error
  }
}

async function waitForGlobalConf(running: RunningAgency, deadline: number): Promise<void> {
  let refreshed = false
  for (;;) {
    const status = await running.admin.call<GlobalConfStatus>('globalConf', 'status', [])
    if (status.available && !status.expired) return
    if (Date.now() > deadline) throw new Error(`${running.agency.serverCode} has no global configuration yet: ${JSON.stringify(status)}`)
    if (!refreshed) {
      refreshed = true
      await running.admin.call('globalConf', 'refresh', []).catch(() => undefined)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

export async function startLabPair(
  pair: LabPair,
  options: { useBuild?: boolean; timeoutMs?: number; runner?: ServerRunner } = {},
): Promise<RunningLabPair> {
  const runner = options.runner ?? 'serve'
  const t0 = Date.now()
  const timeoutMs = options.timeoutMs ?? 30_000
  const lab = await startLabServer(pair.labDir, { ports: pair.labPorts, confExpireSeconds: 600 })
  const started: RunningAgency[] = []
  const stopServers = async (): Promise<void> => {
    await Promise.all(started.map((a) => a.process.stop()))
  }
  const stop = async (): Promise<void> => {
    await stopServers()
    await lab.close()
  }
  try {
    const results = await Promise.allSettled([
      startAgency(pair.consumer, pair.pin, runner, options.useBuild === true, timeoutMs),
      startAgency(pair.provider, pair.pin, runner, options.useBuild === true, timeoutMs),
    ])
    for (const r of results) if (r.status === 'fulfilled') started.push(r.value)
    for (const r of results) if (r.status === 'rejected') throw r.reason
    const [consumer, provider] = started as [RunningAgency, RunningAgency]
    const deadline = Date.now() + timeoutMs
    await Promise.all([waitForGlobalConf(consumer, deadline), waitForGlobalConf(provider, deadline)])
    const running: RunningLabPair = {
      lab, consumer, provider, startupMs: Date.now() - t0, stopServers, stop,
      async replace(side, next) {
        const current = running[side]
        const index = started.indexOf(current)
        if (index >= 0) {
          started.splice(index, 1)
          await current.process.stop()
        }
        if (next !== undefined) {
          started.push(next)
          running[side] = next
        }
      },
    }
    return running
  } catch (error) {
    await stop()
    throw error
  }
}
