import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { get } from 'node:http'
import { resolve } from 'node:path'

/**
 * HAProxy in front of a Gatehouse cluster for the cluster demo and its test (issue 18): Debian's `haproxy` started in
 * the foreground on the documented configuration `resources/cluster/haproxy.cfg` as it is, its addresses and ports
 * given in the environment variables the file names, and its statistics page read as CSV to see which nodes it
 * considers up.
 */
export const HAPROXY_CONFIG = resolve(__dirname, '../../resources/cluster/haproxy.cfg')

/** The haproxy binary (GATEHOUSE_HAPROXY when set, else Debian's /usr/sbin/haproxy), or undefined when not installed. */
export function findHaproxy(): string | undefined {
  const chosen = process.env.GATEHOUSE_HAPROXY
  const candidates = chosen !== undefined && chosen !== '' ? [chosen] : ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy']
  return candidates.find((path) => existsSync(path))
}

export interface BalancedNode {
  name: string
  serverProxyPort: number
  ocspPort: number
  clientProxyPort: number
  healthPort: number
}

export interface BalancerPorts {
  serverProxy: number
  /** Must be serverProxy + 77: peers fetch OCSP responses there. */
  ocsp: number
  clientProxy: number
  stats: number
}

/** One server line of the statistics CSV. */
export interface BackendServerState {
  backend: string
  server: string
  /** UP, DOWN, "UP 1/3", "DOWN 1/2", MAINT, no check… */
  status: string
}

export interface RunningHaproxy {
  child: ChildProcess
  ports: BalancerPorts
  /** The state of every server of every backend, from the statistics page. */
  states(): Promise<BackendServerState[]>
  /** What HAProxy logged (its last 8000 characters). */
  logTail(): string
  stop(): Promise<void>
}

/** The environment variables of resources/cluster/haproxy.cfg for two nodes on 127.0.0.1. */
export function haproxyEnvironment(ports: BalancerPorts, nodes: readonly [BalancedNode, BalancedNode]): Record<string, string> {
  const env: Record<string, string> = {
    GH_LB_HOST: '127.0.0.1',
    GH_LB_SERVER_PROXY_PORT: String(ports.serverProxy),
    GH_LB_OCSP_PORT: String(ports.ocsp),
    GH_LB_CLIENT_PROXY_PORT: String(ports.clientProxy),
    GH_LB_STATS_PORT: String(ports.stats),
  }
  nodes.forEach((node, i) => {
    const prefix = `GH_NODE${i + 1}_`
    env[`${prefix}NAME`] = node.name
    env[`${prefix}HOST`] = '127.0.0.1'
    env[`${prefix}SERVER_PROXY_PORT`] = String(node.serverProxyPort)
    env[`${prefix}OCSP_PORT`] = String(node.ocspPort)
    env[`${prefix}CLIENT_PROXY_PORT`] = String(node.clientProxyPort)
    env[`${prefix}HEALTH_PORT`] = String(node.healthPort)
  })
  return env
}

export async function startHaproxy(ports: BalancerPorts, nodes: readonly [BalancedNode, BalancedNode], binary = findHaproxy()): Promise<RunningHaproxy> {
  if (binary === undefined) throw new Error('haproxy not found: install Debian\'s haproxy package or set GATEHOUSE_HAPROXY')
  const env = { PATH: process.env.PATH ?? '', ...haproxyEnvironment(ports, nodes) }
  // -db: stay in the foreground as one process whatever the file says, so this pid is the one to stop.
  const child = spawn(binary, ['-db', '-f', HAPROXY_CONFIG], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const keep = (d: Buffer): void => void (log = (log + d.toString()).slice(-8000))
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))

  const states = async (): Promise<BackendServerState[]> => {
    const csv = await httpText(`http://127.0.0.1:${ports.stats}/stats;csv`)
    const [header, ...rows] = csv.split('\n').filter((line) => line.trim() !== '')
    const columns = (header ?? '').replace(/^# /, '').split(',')
    const at = (name: string): number => columns.indexOf(name)
    return rows
      .map((row) => row.split(','))
      .filter((cells) => cells[at('svname')] !== 'FRONTEND' && cells[at('svname')] !== 'BACKEND')
      .map((cells) => ({ backend: cells[at('pxname')] ?? '', server: cells[at('svname')] ?? '', status: cells[at('status')] ?? '' }))
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  }

  // Ready once the statistics page answers; a configuration it refuses ends the process first.
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`haproxy exited: ${log}`)
    try {
      await states()
      break
    } catch (error) {
      if (Date.now() > deadline) {
        await stop()
        throw new Error(`haproxy did not answer on its statistics port: ${(error as Error).message}\n${log}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return { child, ports, states, logTail: () => log, stop }
}

function httpText(url: string): Promise<string> {
  return new Promise((resolveText, reject) => {
    const req = get(url, { timeout: 2000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => (res.statusCode === 200 ? resolveText(text) : reject(new Error(`HTTP ${res.statusCode}`))))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('statistics page timed out')))
    req.on('error', reject)
  })
}
