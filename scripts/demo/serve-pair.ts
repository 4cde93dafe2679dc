import { Agent } from 'node:http'
import { rmSync } from 'node:fs'
import { formatIdPath, serviceId } from '@shared/domain/identifiers'
import { buildLabPair, type LabPair } from '../lib/lab-pair'
import { startLabPair, type RunningLabPair, type ServerRunner } from '../lib/lab-pair-servers'
import { startSampleService, type SampleService } from '../lib/sample-service'
import { SOAP_NAMESPACE, SOAP_OPERATION } from '../lib/sample-service-soap'
import { firstExchange, restCall } from './rest-call'
import { addSoapServices } from './soap-calls'

/**
 * `npm run demo -- --serve [--json]` (issue 12 item 5): the demo's lab pair and services — the sample REST service
 * `pets`, the sample SOAP operation from its WSDL open to the consumer, the OpenAPI description — left running for
 * others to use. Once the first exchange went through it prints where everything is (with --json one line, see
 * {@link ServedPair}) and serves until SIGTERM or SIGINT; then it stops the servers, the lab and the sample service and
 * removes the temporary folder (unless --keep).
 */
export interface ServedPair {
  clientProxy: string
  consumer: string
  intruder: string
  restService: string
  soapService: string
  soapServiceVersion: string
  provider: string
  soapOperation: string
  soapNamespace: string
  dataDirs: { consumer: string; provider: string }
}

export interface ServeOptions {
  keep: boolean
  useBuild: boolean
  runner: ServerRunner
  /** Progress lines (to stderr with --json, so stdout holds the JSON line alone). */
  progress: (line: string) => void
  /** Called once with the pair's description when it is ready. */
  ready: (served: ServedPair) => void
  /** Resolves when the pair should stop (a signal). */
  stopRequested: Promise<void>
}

export async function servePair(options: ServeOptions): Promise<void> {
  const { progress } = options
  let service: SampleService | undefined
  let pair: LabPair | undefined
  let running: RunningLabPair | undefined
  const agent = new Agent({ keepAlive: false })
  try {
    service = await startSampleService(0)
    progress(`Sample service ${service.url}`)
    pair = await buildLabPair({ serviceUrl: service.url, registration: 'management-service' })
    progress(`Lab trust domain in ${pair.dir}`)
    running = await startLabPair(pair, { useBuild: options.useBuild, runner: options.runner })
    progress('Servers started, tokens logged in, global configuration downloaded by both')
    const services = await addSoapServices(running.provider.admin, pair, service.url)
    const consumer = formatIdPath(pair.consumer.subsystem)
    await firstExchange(() => restCall(`${running!.consumer.clientProxyUrl}/r1/${formatIdPath(pair!.pets)}/pets/0`, { 'X-Road-Client': consumer }, agent))
    options.ready({
      clientProxy: running.consumer.clientProxyUrl,
      consumer,
      intruder: formatIdPath(pair.intruder),
      restService: formatIdPath(pair.pets),
      soapService: formatIdPath(serviceId(pair.provider.subsystem, services.soap.serviceCode)),
      soapServiceVersion: services.soapVersion,
      provider: formatIdPath(pair.provider.subsystem),
      soapOperation: SOAP_OPERATION,
      soapNamespace: SOAP_NAMESPACE,
      dataDirs: { consumer: pair.consumer.dataDir, provider: pair.provider.dataDir },
    })
    await options.stopRequested
    progress('Stopping')
  } finally {
    agent.destroy()
    await running?.stop().catch(() => undefined)
    await service?.close().catch(() => undefined)
    if (pair !== undefined && !options.keep) rmSync(pair.dir, { recursive: true, force: true })
    else if (pair !== undefined) progress(`Kept ${pair.dir}`)
  }
}
