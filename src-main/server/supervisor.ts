import type { ListenerInfo } from '@shared/admin-api/admin-api'
import { toSecurityServerError, type Logger } from '../platform'
import type { SecurityServer } from './create-security-server'
import type { ServerConfig } from './server-config'

/**
 * Runs one security server in this process and restarts it in place when it asks (`system.restart`, after the
 * bootstrap file changed): stop gracefully, read the bootstrap configuration again, build and start a new server.
 * A configuration that cannot start falls back to the last one that did, so a typo never leaves the machine without
 * its admin interface. The headless entry and the desktop app share it.
 */
export interface SupervisorOptions {
  /** Reads the bootstrap configuration (again at every restart). */
  loadConfig(): ServerConfig
  /** Builds a server over `config`; `restart` is the hook its `system.restart` calls. */
  create(config: ServerConfig, restart: () => void): SecurityServer
  /** Runs before each start (e.g. the autologin of the software token). */
  beforeStart?(server: SecurityServer): Promise<void>
  /** Told after every (re)start with the new server and its listeners. */
  onStarted?(server: SecurityServer, listeners: ListenerInfo[]): void
  /** Told when a restart could start neither the new nor the previous configuration: nothing runs any more. */
  onFailed?(error: unknown): void
  logger: Logger
}

export interface Supervisor {
  /** The server running now (a new object after each restart). */
  current(): SecurityServer
  /** Stops the server for good. */
  stop(): Promise<void>
  /** Resolves when a restart in progress has finished (for tests and the desktop shell). */
  idle(): Promise<void>
}

export async function superviseSecurityServer(options: SupervisorOptions): Promise<Supervisor> {
  const { logger } = options
  let stopped = false
  let restarting: Promise<void> = Promise.resolve()

  const launch = async (config: ServerConfig): Promise<SecurityServer> => {
    const server = options.create(config, requestRestart)
    await options.beforeStart?.(server)
    const listeners = await server.start()
    options.onStarted?.(server, listeners)
    return server
  }

  let lastGood = options.loadConfig()
  let server = await launch(lastGood)

  function requestRestart(): void {
    restarting = restarting.then(async () => {
      if (stopped) return
      logger.info('restarting the security server to apply the bootstrap configuration')
      await server.stop()
      let config: ServerConfig
      try {
        config = options.loadConfig()
      } catch (error) {
        logger.error({ code: toSecurityServerError(error).code }, `the bootstrap configuration cannot be read; restarting with the previous one: ${(error as Error).message}`)
        config = lastGood
      }
      try {
        server = await launch(config)
        lastGood = config
      } catch (error) {
        logger.error({ err: error }, 'the security server did not start with the new bootstrap configuration; starting with the previous one')
        server = await launch(lastGood)
      }
    }).catch((error: unknown) => {
      logger.fatal({ err: error }, 'the security server could not be restarted')
      options.onFailed?.(error)
    })
  }

  return {
    current: () => server,
    idle: () => restarting,
    async stop() {
      stopped = true
      await restarting.catch(() => undefined)
      await server.stop()
    },
  }
}
