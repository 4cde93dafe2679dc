import { createLogger } from '../../src-main/platform'
import { createSecurityServer, loadServerConfig } from '../../src-main/server'
import { SOFTWARE_TOKEN_ID } from '../../src-main/signer'

/**
 * A security server process for the demo and the benchmark that logs its software token in *before* it starts, the
 * way X-Road's autologin does (the PIN from the environment variable GATEHOUSE_DEMO_TOKEN_PIN, never an argument), so
 * the proxy finds its authentication key at start. Otherwise the same as `gatehouse serve --json`: the composition
 * root with the data directory's gatehouse.json, the ready line {"ready":true,"listeners":[…]}, graceful SIGTERM.
 */
async function main(): Promise<void> {
  const dataDir = process.argv[2]
  const pin = process.env.GATEHOUSE_DEMO_TOKEN_PIN
  if (dataDir === undefined || pin === undefined) throw new Error('usage: GATEHOUSE_DEMO_TOKEN_PIN=… serve-autologin-main.ts DATA_DIR')
  delete process.env.GATEHOUSE_DEMO_TOKEN_PIN
  const config = loadServerConfig(dataDir)
  const logger = createLogger({ level: config.logging.level })
  const server = createSecurityServer({ dataDir, config, logger })
  await server.core.signer.login(SOFTWARE_TOKEN_ID, pin)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    const deadline = setTimeout(() => process.exit(1), 4500)
    deadline.unref()
    server.stop().finally(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  const listeners = await server.start()
  process.stdout.write(`${JSON.stringify({ ready: true, listeners })}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`serve-autologin: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
