import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ListenerInfo } from '@shared/admin-api/admin-api'
import { createLogger, type Logger } from '../platform'
import { createSecurityServer, loadServerConfig, type SecurityServer } from '../server'
import { SOFTWARE_TOKEN_ID } from '../signer'

/**
 * The headless entry (`gatehouse serve`): loads the configuration, starts the security server without
 * Electron and stops it gracefully on SIGTERM/SIGINT.
 */
export interface ServeOptions {
  dataDir: string
  configFile?: string
  /** Called once listening, e.g. to print the listener URLs. */
  onReady?: (listeners: ListenerInfo[]) => void
  /**
   * Autologin (X-Road's `autologin`): the software token's PIN, used once before the listeners start so the server
   * proxy has its authentication key. Never logged; the caller forgets it afterwards.
   */
  tokenPin?: string
}

export interface RunningServer {
  server: SecurityServer
  logger: Logger
  /** Resolves after a signal stopped the server. */
  stopped: Promise<void>
}

/** Where the built admin GUI is: next to the bundle (out/main → out/renderer) or the repository's out/. */
export function findRendererDir(): string | undefined {
  const candidates = [resolve(__dirname, '../renderer'), resolve(__dirname, '../../out/renderer'), resolve(process.cwd(), 'out/renderer')]
  return candidates.find((dir) => existsSync(join(dir, 'index.html')))
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  const config = loadServerConfig(options.dataDir, options.configFile)
  const logger = createLogger({ level: config.logging.level })
  const server = createSecurityServer({ dataDir: options.dataDir, config, logger, rendererDir: findRendererDir() })
  // Signal handlers go in before the server announces it is ready, so a signal right after "ready" stops it gracefully.
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined
  const stopped = new Promise<void>((resolveStopped) => {
    let stopping = false
    onSignal = (signal) => {
      if (stopping) return
      stopping = true
      logger.info({ signal }, 'stopping on signal')
      // A stop that hangs must not keep the process alive past the promised 5 s.
      const deadline = setTimeout(() => {
        logger.error('graceful stop took too long; exiting')
        process.exit(1)
      }, 4500)
      deadline.unref()
      server
        .stop()
        .catch((error: unknown) => logger.error({ err: error }, 'error while stopping'))
        .finally(() => {
          process.off('SIGTERM', onSignal)
          process.off('SIGINT', onSignal)
          clearTimeout(deadline)
          resolveStopped()
        })
    }
  })
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  if (options.tokenPin !== undefined) {
    await server.core.signer.login(SOFTWARE_TOKEN_ID, options.tokenPin)
    logger.info('software token logged in (autologin)')
  }
  const listeners = await server.start()
  options.onReady?.(listeners)
  return { server, logger, stopped }
}
