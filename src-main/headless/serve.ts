import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ListenerInfo } from '@shared/admin-api/admin-api'
import { createLogger, type Logger } from '../platform'
import {
  applyClusterOverrides, createSecurityServer, loadServerConfig, superviseSecurityServer, type ClusterOverrides, type SecurityServer, type ServerConfig,
  type Supervisor,
} from '../server'
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
   * proxy has its authentication key, and again after a restart asked for in the GUI. Never logged or stored.
   */
  tokenPin?: string
  /** `--cluster-node`, `--cluster-role`, `--cluster-db`: override or complete the bootstrap file's `cluster` section. */
  cluster?: ClusterOverrides
}

export interface RunningServer {
  /** The server running now (a new one after each restart asked for in the GUI). */
  server(): SecurityServer
  supervisor: Supervisor
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
  const configOverrides = (fromFile: ServerConfig): ServerConfig => applyClusterOverrides(fromFile, options.cluster ?? {})
  const load = () => configOverrides(loadServerConfig(options.dataDir, options.configFile))
  const config = load()
  const logger = createLogger({ level: config.logging.level })
  const rendererDir = findRendererDir()
  /** The supervisor once its start has begun: a signal during the first start stops the server it is starting. */
  const running: { supervisor?: Promise<Supervisor> } = {}
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
      Promise.resolve(running.supervisor)
        .then((supervisor) => supervisor?.stop())
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
  const tokenPin = options.tokenPin
  let first = true
  running.supervisor = superviseSecurityServer({
    logger,
    loadConfig: () => (first ? config : load()),
    create: (current, restart) => {
      first = false
      logger.level = current.logging.level
      return createSecurityServer({ dataDir: options.dataDir, config: current, configFile: options.configFile, configOverrides, logger, rendererDir, restart })
    },
    beforeStart: async (server) => {
      if (tokenPin === undefined) return
      await server.core.signer.login(SOFTWARE_TOKEN_ID, tokenPin)
      logger.info('software token logged in (autologin)')
    },
    onStarted: (_server, listeners) => options.onReady?.(listeners),
    onFailed: () => onSignal('SIGTERM'),
  })
  const supervisor = await running.supervisor
  return { server: () => supervisor.current(), supervisor, logger, stopped }
}
