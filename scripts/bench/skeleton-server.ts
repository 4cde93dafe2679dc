import { createLogger } from '../../src-main/platform'
import { createSecurityServer, loadServerConfig, type ProxyViews } from '../../src-main/server'
import { SOFTWARE_TOKEN_ID } from '../../src-main/signer'

/**
 * `skeleton-server.ts DATA_DIR` (PIN in GATEHOUSE_TOKEN_PIN): one security server as `gatehouse serve --json` runs it
 * — the same composition root over the same data directory, the same listeners, TLS, transport multipart, header
 * parts, access checks, configuration lookups and operational monitoring — with the security steps replaced by
 * pass-throughs: nothing is signed (a fixed signature part travels in its place), verified, logged or time-stamped,
 * and the consumer's TLS certificate and OCSP parts are not checked. It measures the skeleton's own cost against the
 * floor's two bare hops (issue 15 §5). The pass-throughs are the bench's, handed in through the composition root's
 * `wrapProxyViews`; no configuration, flag or environment variable of the server reaches that option. Prints
 * {"ready":true,"listeners":[…]} when listening; stops on SIGTERM.
 */
const [dataDir] = process.argv.slice(2) as [string]
const pin = process.env.GATEHOUSE_TOKEN_PIN
delete process.env.GATEHOUSE_TOKEN_PIN

/** The signature part the pass-through signer puts where a signature goes (nothing reads it: verification is off too). */
const NO_SIGNATURE = Buffer.from('<signature xmlns="http://x-road.eu/skeleton"/>', 'utf8')

function skeleton(real: ProxyViews): ProxyViews {
  return {
    ...real,
    signer: { sign: async () => ({ signatureXml: NO_SIGNATURE }) },
    verifier: { verify: async () => undefined },
    messageLog: { assertAcceptingMessages: () => undefined, bodyLimit: () => undefined, record: async () => undefined },
    tlsClientVerifier: { verify: async () => undefined },
  }
}

async function main(): Promise<void> {
  if (dataDir === undefined || pin === undefined) throw new Error('usage: skeleton-server.ts DATA_DIR, PIN in GATEHOUSE_TOKEN_PIN')
  const config = loadServerConfig(dataDir)
  const server = createSecurityServer({ dataDir, config, logger: createLogger({ level: config.logging.level }), wrapProxyViews: skeleton })
  // The token logs in as in the real pair: the server proxy presents the auth key's TLS certificate.
  await server.core.signer.login(SOFTWARE_TOKEN_ID, pin)
  const listeners = await server.start()
  process.stdout.write(`${JSON.stringify({ ready: true, listeners })}\n`)
  process.once('SIGTERM', () => {
    server.stop().then(() => process.exit(0), () => process.exit(1))
  })
}

main().catch((error: unknown) => {
  process.stderr.write(`skeleton-server: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
