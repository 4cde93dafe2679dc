import { createLogger } from '../../src-main/platform'
import { createSecurityServer, loadServerConfig } from '../../src-main/server'
import { SOFTWARE_TOKEN_ID } from '../../src-main/signer'
import { throttledDriver } from './bench-support'

/**
 * `slow-token-server.ts DATA_DIR SIGNATURES_PER_SECOND` (PIN in GATEHOUSE_TOKEN_PIN): one security server as
 * `gatehouse serve --json` runs it — the same composition root over the same data directory — whose token makes at
 * most SIGNATURES_PER_SECOND signatures a second. The throttle is the bench's own wrapper around the real token
 * driver, handed in through the composition root's `signer.wrapDriver`; nothing in the server knows of it. Prints
 * {"ready":true,"listeners":[…]} when listening; on SIGTERM writes {"tokenSignatures":N,"batch":{…}} (the signatures
 * the token made, the batch signer's counts) to stderr and stops.
 */
const [dataDir, rate] = process.argv.slice(2) as [string, string]
const perSecond = Number(rate)
const pin = process.env.GATEHOUSE_TOKEN_PIN
delete process.env.GATEHOUSE_TOKEN_PIN

async function main(): Promise<void> {
  if (dataDir === undefined || !(perSecond > 0) || pin === undefined) throw new Error('usage: slow-token-server.ts DATA_DIR SIGNATURES_PER_SECOND, PIN in GATEHOUSE_TOKEN_PIN')
  const config = loadServerConfig(dataDir)
  let tokenSignatures = 0
  const server = createSecurityServer({
    dataDir, config, logger: createLogger({ level: config.logging.level }),
    signer: {
      wrapDriver: (driver) => {
        const throttled = throttledDriver(driver, perSecond)
        return new Proxy(throttled, {
          get: (target, property) => (property === 'sign' ? (...args: Parameters<typeof target.sign>) => (tokenSignatures++, target.sign(...args)) : Reflect.get(target, property)),
        })
      },
    },
  })
  await server.core.signer.login(SOFTWARE_TOKEN_ID, pin)
  const listeners = await server.start()
  process.stdout.write(`${JSON.stringify({ ready: true, listeners })}\n`)
  process.once('SIGTERM', () => {
    // What the token did, for the bench to read from this process's stderr.
    process.stderr.write(`${JSON.stringify({ tokenSignatures, batch: server.core.signer.batchStats() })}\n`)
    server.stop().then(() => process.exit(0), () => process.exit(1))
  })
}

main().catch((error: unknown) => {
  process.stderr.write(`slow-token-server: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
