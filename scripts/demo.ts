import { parseArgs } from 'node:util'
import { haveBuild } from './lib/lab-pair-servers'
import { runDemo } from './demo/run-demo'
import { servePair } from './demo/serve-pair'

/**
 * `npm run demo [-- --json] [--requests N] [--concurrency C] [--keep] [--build] [--runner R]`: two security servers exchange
 * signed REST and SOAP messages in a lab trust domain and answer every metaservice; see scripts/demo/run-demo.ts. With
 * --json the last line is {"sent":N,"ok":N,"denied":N,"logged":N,"verified":N,"operations":{…},
 * "registration":{"requests":N,"approved":N,"viaManagementService":true},"soap":{"sent":N,"ok":N,"attachments":N},
 * "metaservices":{"listClients":true,"listMethods":true,"allowedMethods":true,"getWsdl":true,"getOpenAPI":true}}.
 * Exits 1 when anything failed, 2 on a usage error.
 *
 * `npm run demo -- --serve [--json] [--keep] [--build] [--runner R]`: the same pair and services left running for others
 * (scripts/demo/serve-pair.ts); with --json stdout is one line {"clientProxy":…,"consumer":…,…,"dataDirs":{…}} once the
 * pair is ready. Serves until SIGTERM or SIGINT, then stops cleanly and exits 0.
 */
function usage(message: string): never {
  process.stderr.write(`demo: ${message}\nusage: demo [--json] [--requests N (>= 3, default 100)] [--concurrency C] [--keep] [--build] [--runner serve|autologin]\n` +
    '       demo --serve [--json] [--keep] [--build] [--runner serve|autologin]\n')
  process.exit(2)
}

async function main(): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        json: { type: 'boolean', default: false },
        requests: { type: 'string', default: '100' },
        concurrency: { type: 'string', default: '8' },
        keep: { type: 'boolean', default: false },
        build: { type: 'boolean', default: false },
        runner: { type: 'string', default: 'autologin' },
        serve: { type: 'boolean', default: false },
      },
    }))
  } catch (error) {
    usage((error as Error).message)
  }
  const requests = Number(values.requests)
  const concurrency = Number(values.concurrency)
  if (!Number.isInteger(requests) || requests < 3 || requests > 100_000) usage('--requests must be an integer from 3')
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) usage('--concurrency must be 1..256')
  if (values.runner !== 'serve' && values.runner !== 'autologin') usage('--runner must be serve or autologin')
  if (values.build && !haveBuild()) usage('--build needs an up-to-date out/main/cli.js (npm run build)')

  const print = (line: string): void => void process.stdout.write(`${line}\n`)
  if (values.serve) return serve(values.json, values.keep, values.build, values.runner, print)
  print('Gatehouse demo: two security servers, signed REST messages, verified evidence\n')
  const result = await runDemo({ requests, concurrency, keep: values.keep, useBuild: values.build, runner: values.runner, print })
  const { counts, operations, registration, soap, metaservices, failures, timings } = result
  print('')
  print(`Summary: sent ${counts.sent}, ok ${counts.ok}, denied ${counts.denied}, logged ${counts.logged}, verified ${counts.verified}; ` +
    `SOAP sent ${soap.sent}, ok ${soap.ok}, ${soap.attachments} attachments; metaservices ${Object.entries(metaservices).filter(([, ok]) => ok).map(([name]) => name).join(', ') || 'none'} working`)
  print(`Time: ${(timings.totalMs / 1000).toFixed(1)} s (setup ${timings.setupMs} ms, start ${timings.startMs} ms, ` +
    `exchange ${timings.exchangeMs} ms, evidence ${timings.verifyMs} ms)`)
  print(failures.length === 0 ? 'Result: everything checked out.' : `Result: ${failures.length} problem(s):\n${failures.map((f) => `  - ${f}`).join('\n')}`)
  if (values.json) print(JSON.stringify({ ...counts, operations, registration, soap, metaservices }))
  return failures.length === 0 ? 0 : 1
}

async function serve(json: boolean, keep: boolean, useBuild: boolean, runner: 'serve' | 'autologin', print: (line: string) => void): Promise<number> {
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve())
    process.once('SIGINT', () => resolve())
  })
  const progress = json ? (line: string): void => void process.stderr.write(`${line}\n`) : print
  await servePair({
    keep, useBuild, runner, progress, stopRequested,
    ready: (served) => {
      if (json) print(JSON.stringify(served))
      else {
        print(`Client proxy ${served.clientProxy}; as ${served.consumer} (or ${served.intruder}, without access rights) call`)
        print(`  REST ${served.restService}: GET ${served.clientProxy}/r1/${served.restService}/pets/{id} with X-Road-Client: ${served.consumer}`)
        print(`  SOAP ${served.soapService} version ${served.soapServiceVersion}: POST ${served.clientProxy}/ operation ${served.soapOperation} in ${served.soapNamespace}`)
        print(`Data directories: consumer ${served.dataDirs.consumer}, provider ${served.dataDirs.provider}`)
        print('Serving until SIGTERM or Ctrl-C')
      }
    },
  })
  return 0
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
