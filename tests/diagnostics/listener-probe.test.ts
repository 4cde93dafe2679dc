import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { ListenerStatus } from '@shared/admin-api/admin-api'
import { loadOrCreateAdminTls } from '../../src-main/admin'
import { runProbes, type ProbeDeps } from '../../src-main/diagnostics'
import { systemClock } from '../../src-main/platform'
import { XROAD_TLS_OPTIONS } from '../../src-main/proxy'
import { useTempDirs } from '../support/temp-dir'

/**
 * Listener probes on real loopback sockets: a listener that did not open, one that should listen but does not answer,
 * a server proxy that shows a certificate other than an authentication certificate, a client proxy answering an error.
 */
const tempDir = useTempDirs()
const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

async function listen(server: Server): Promise<number> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function freePort(): Promise<number> {
  const server = createHttpServer()
  const port = await listen(server)
  await new Promise((resolve) => server.close(resolve))
  servers.splice(servers.indexOf(server), 1)
  return port
}

function deps(listeners: ListenerStatus[], initialized = true): ProbeDeps {
  return {
    clock: systemClock, globalConf: () => undefined, anchor: () => undefined, ownCertificates: () => [], timestampingServices: () => [],
    listeners: () => listeners, initialized: () => initialized, authCertDer: () => undefined, clientProxyUrl: () => undefined,
    onExchange: () => () => undefined, verifyPeerChain: async () => undefined,
  }
}

const listener = (name: ListenerStatus['name'], port: number, listening: boolean, problem: string | null = null): ListenerStatus => ({
  name, address: `127.0.0.1:${port}`, url: listening ? `${name === 'serverProxy' ? 'https' : 'http'}://127.0.0.1:${port}/` : null, listening, problem,
})

describe('listener probes', () => {
  it('a listener that could not open is named with its problem; before joining an instance it is only waiting', async () => {
    const closed = listener('clientProxyHttp', 8080, false, 'port 8080 on 127.0.0.1 is used by another program')
    let [result] = (await runProbes({ kinds: ['listener'] }, deps([closed]))).probes
    expect(result).toMatchObject({ code: 'listener-closed', light: 'red', params: { problem: 'port 8080 on 127.0.0.1 is used by another program' } })
    ;[result] = (await runProbes({ kinds: ['listener'] }, deps([closed], false))).probes
    expect(result).toMatchObject({ code: 'listener-closed', light: 'gray' })
  })

  it('a listener reported open that refuses connections is unreachable at the connect step', async () => {
    const port = await freePort()
    const [result] = (await runProbes({ kinds: ['listener'] }, deps([listener('ocspResponder', port, true)]))).probes
    expect(result).toMatchObject({ code: 'listener-unreachable', light: 'red', params: { stage: 'connect' } })
    expect(result?.steps).toEqual([expect.objectContaining({ name: 'connect', ok: false })])
  })

  it('a server proxy showing a certificate that is not our authentication certificate is flagged with its subject', async () => {
    const tls = await loadOrCreateAdminTls(tempDir(), systemClock)
    const port = await listen(createHttpsServer({ ...XROAD_TLS_OPTIONS, key: tls.key, cert: tls.cert }, (_req, res) => res.end()))
    const [result] = (await runProbes({ kinds: ['listener'] }, deps([listener('serverProxy', port, true)]))).probes
    expect(result).toMatchObject({ code: 'listener-fallback-cert', light: 'yellow', params: { protocol: 'TLSv1.2' } })
    expect(result?.steps.map((s) => s.name)).toEqual(['connect', 'tls'])
    expect(String(result?.params.subject)).toContain('CN=')
  })

  it('a client proxy answering listClients with an error is an unexpected answer', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(500).end('no')))
    const [result] = (await runProbes({ kinds: ['listener'] }, deps([listener('clientProxyHttp', port, true)]))).probes
    expect(result).toMatchObject({ code: 'listener-unexpected-answer', light: 'yellow', params: { status: 500 } })
  })
})
