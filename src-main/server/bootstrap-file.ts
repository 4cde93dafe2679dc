import { existsSync, readFileSync } from 'node:fs'
import type { BootstrapValues } from '@shared/admin-api/admin-api'
import { clientError, writeFileAtomic, type Logger } from '../platform'
import type { BootstrapFile } from '../admin'
import { dataDirLayout, loadServerConfig, parseServerConfig, type ServerConfig } from './server-config'

/**
 * The bootstrap file as the settings screen edits it: the listener addresses and ports of `gatehouse.json` (or the
 * `--config` file). Writing keeps every other field of the file, validates the result as `serverConfigSchema` does
 * at start, and replaces the file atomically, so a server never starts from a half-written file. The log level
 * applies to the running server at once; the rest waits for a restart.
 */
export function bootstrapFile(dataDir: string, configFile: string | undefined, running: ServerConfig, logger: Logger): BootstrapFile {
  const path = configFile ?? dataDirLayout(dataDir).configFile
  const readRaw = (): Record<string, unknown> => {
    if (!existsSync(path)) return {}
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {}
    } catch (error) {
      throw clientError('invalid_config', `${path} is not valid JSON: ${(error as Error).message}`, { cause: error })
    }
  }
  return {
    path,
    read: () => valuesOf(loadServerConfig(dataDir, configFile)),
    running: () => valuesOf(running),
    write(values) {
      const raw = readRaw()
      const section = (name: string): Record<string, unknown> => {
        const value = raw[name]
        return value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {}
      }
      const internal = section('internal')
      const external = section('external')
      const logging = section('logging')
      const healthCheck = section('healthCheck')
      const set = (target: Record<string, unknown>, key: string, value: unknown): void => {
        if (value !== undefined) target[key] = value
      }
      set(internal, 'host', values.internalHost)
      set(internal, 'clientProxyHttpPort', values.clientProxyHttpPort)
      set(internal, 'clientProxyHttpsPort', values.clientProxyHttpsPort)
      set(internal, 'adminPort', values.adminPort)
      set(external, 'host', values.externalHost)
      set(external, 'serverProxyPort', values.serverProxyPort)
      set(external, 'ocspResponderPort', values.ocspResponderPort)
      set(healthCheck, 'host', values.healthCheckHost)
      set(healthCheck, 'port', values.healthCheckPort)
      set(logging, 'level', values.logLevel)
      const next = { ...raw, internal, external, healthCheck, logging }
      const parsed = parseServerConfig(next, path)
      writeFileAtomic(path, `${JSON.stringify(next, null, 2)}\n`, 0o644)
      if (parsed.logging.level !== running.logging.level) {
        running.logging.level = parsed.logging.level
        logger.level = parsed.logging.level
        logger.info({ level: parsed.logging.level }, 'log level changed')
      }
    },
  }
}

function valuesOf(config: ServerConfig): BootstrapValues {
  return {
    internalHost: config.internal.host,
    clientProxyHttpPort: config.internal.clientProxyHttpPort,
    clientProxyHttpsPort: config.internal.clientProxyHttpsPort,
    adminPort: config.internal.adminPort,
    externalHost: config.external.host,
    serverProxyPort: config.external.serverProxyPort,
    ocspResponderPort: config.external.ocspResponderPort,
    healthCheckHost: config.healthCheck.host,
    healthCheckPort: config.healthCheck.port,
    logLevel: config.logging.level,
  }
}
