import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { SecurityServerError } from '../platform'
import { DEFAULT_MESSAGE_BUDGET } from '../proxy'

/**
 * The bootstrap configuration of one security server: where it listens and logs. Everything an
 * administrator changes at run time (system parameters, clients, services) lives in the server
 * configuration database instead. Read from `--config FILE` or `DATA_DIR/gatehouse.json`; all fields optional.
 */
const port = z.number().int().min(0).max(65535)
const host = z.string().min(1)

/** PostgreSQL identifiers Gatehouse puts in a search path or SQL: plain names only. */
const sqlName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a plain SQL name (letters, digits, _; at most 63)')

export const clusterSchema = z
  .object({
    /** This node's name, unique in the cluster (the nodes list and the change notifications name it). */
    node: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ - (at most 63)'),
    /** X-Road's node types: administrators change configuration on the primary; secondaries show it read-only. */
    role: z.enum(['primary', 'secondary']),
    /** The PostgreSQL database the nodes share. */
    postgres: z
      .object({
        host: host,
        port: port.default(5432),
        user: z.string().min(1).max(63),
        database: z.string().min(1).max(63),
        /** Prefer `passwordFile` (mode 600) or PGPASSWORD; a password here is readable by whoever reads this file. */
        password: z.string().min(1).optional(),
        passwordFile: z.string().min(1).optional(),
        /** The schema the tables live in (search_path); `public` when not given. */
        schema: sqlName.optional(),
      })
      .strict()
      .refine((p) => p.password === undefined || p.passwordFile === undefined, { message: 'give password or passwordFile, not both', path: ['passwordFile'] }),
  })
  .strict()

export type ClusterConfig = z.infer<typeof clusterSchema>

export const serverConfigSchema = z
  .object({
    /** Interfaces the information systems' side listens on (client proxy, admin GUI). */
    internal: z
      .object({
        host: host.default('127.0.0.1'),
        clientProxyHttpPort: port.nullable().default(8080),
        clientProxyHttpsPort: port.nullable().default(8443),
        adminPort: port.nullable().default(4000),
      })
      .strict()
      .prefault({}),
    /** Interfaces other security servers connect to (server proxy, OCSP responses). */
    external: z
      .object({
        host: host.default('0.0.0.0'),
        serverProxyPort: port.nullable().default(5500),
        ocspResponderPort: port.nullable().default(5577),
      })
      .strict()
      .prefault({}),
    /**
     * The health-check endpoint for load balancers (X-Road `[proxy] health-check-interface`, `health-check-port`;
     * ig-xlb §3.4): plain HTTP, off unless a port is given (X-Road turns it off with port 0, which here means any free
     * port, as for every listener).
     */
    healthCheck: z
      .object({
        host: host.default('0.0.0.0'),
        port: port.nullable().default(null),
      })
      .strict()
      .prefault({}),
    /**
     * Limits of the proxy listeners (client proxy and server proxy): body size and slow-client protection
     * (reliability-and-security.md §1.8). Omitted fields keep the defaults.
     */
    proxyLimits: z
      .object({
        maxBodyBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).optional(),
        headersTimeoutMs: z.number().int().min(100).max(600_000).optional(),
        requestTimeoutMs: z.number().int().min(100).max(3_600_000).optional(),
        keepAliveTimeoutMs: z.number().int().min(100).max(3_600_000).optional(),
        maxConnections: z.number().int().min(1).max(100_000).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * The memory budget of the message exchange (issue 14 §3; README "Memory budget"): message bytes held in memory at
     * once across every proxy connection (a request that would go over it is refused with `server_busy` before its
     * body is read), the body size past which a body goes to a spool file in DATA_DIR/spool, and the spool's size.
     */
    memoryBudget: z
      .object({
        maxInFlightBytes: z.number().int().min(1024 * 1024).max(16 * 1024 * 1024 * 1024).optional(),
        spoolThresholdBytes: z.number().int().min(4096).max(1024 * 1024 * 1024).optional(),
        maxSpoolBytes: z.number().int().min(1024 * 1024).max(Number.MAX_SAFE_INTEGER).optional(),
      })
      .strict()
      .refine((b) => b.spoolThresholdBytes === undefined || b.spoolThresholdBytes <= (b.maxInFlightBytes ?? DEFAULT_MESSAGE_BUDGET.maxInFlightBytes), {
        message: 'spoolThresholdBytes must not be larger than maxInFlightBytes',
        path: ['spoolThresholdBytes'],
      })
      .prefault({}),
    logging: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    /** Milliseconds to wait for in-flight work when stopping before connections are cut. */
    shutdownGraceMs: z.number().int().min(0).max(30_000).default(3000),
    /**
     * Cluster mode (issue 18; X-Road's external load balancer set-up, ig-xlb §2): this node shares the server
     * configuration with the other nodes in one PostgreSQL database. Absent: a standalone server on SQLite.
     */
    cluster: clusterSchema.optional(),
  })
  .strict()

export type ServerConfig = z.infer<typeof serverConfigSchema>

/** Files and folders inside a data directory (documented in the README). */
export function dataDirLayout(dataDir: string) {
  const root = resolve(dataDir)
  return {
    root,
    configFile: join(root, 'gatehouse.json'),
    serverConfDb: join(root, 'serverconf.sqlite'),
    messageLogDb: join(root, 'messagelog.sqlite'),
    /** The message log's acknowledgement file (the last acknowledged place in the evidence chain, outside SQLite). */
    messageLogAckFile: join(root, 'messagelog.ack'),
    opMonitorDb: join(root, 'opmonitor.sqlite'),
    globalConfDir: join(root, 'globalconf'),
    tokensDir: join(root, 'tokens'),
    archiveDir: join(root, 'archive'),
    backupsDir: join(root, 'backups'),
    tlsDir: join(root, 'tls'),
    /** Message bodies past the memory budget's spool threshold while they are in flight (emptied at start). */
    spoolDir: join(root, 'spool'),
    pidFile: join(root, 'gatehouse.pid'),
  }
}
export type DataDirLayout = ReturnType<typeof dataDirLayout>

/** Validates a parsed configuration; the error names the offending field. */
export function parseServerConfig(value: unknown, source: string): ServerConfig {
  const result = serverConfigSchema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)'
  const problem = issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid')
  throw new SecurityServerError('invalid_config', `Invalid configuration in ${source}: field '${field}': ${problem}`, {
    detail: field,
    clientFault: true,
  })
}

/**
 * Loads the configuration: an explicit file must exist; without one, `DATA_DIR/gatehouse.json` is used
 * when present and the defaults otherwise.
 */
export function loadServerConfig(dataDir: string, configFile?: string): ServerConfig {
  const path = configFile ?? dataDirLayout(dataDir).configFile
  if (!existsSync(path)) {
    if (configFile !== undefined) {
      throw new SecurityServerError('config_file_not_found', `Configuration file ${configFile} does not exist`, { clientFault: true })
    }
    return parseServerConfig({}, 'defaults')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new SecurityServerError('invalid_config', `Configuration file ${path} is not valid JSON: ${(cause as Error).message}`, {
      cause,
      clientFault: true,
    })
  }
  return parseServerConfig(parsed, path)
}

/**
 * What the bootstrap file now says differently from `running` (field paths such as `internal.adminPort`), or why the
 * file cannot be read: those settings take effect at the next restart. `overrides` is what the entry applied on top of
 * the file (the command line's `--cluster-*`), applied to the file's settings again before they are compared.
 */
export function bootstrapDifferences(
  dataDir: string, configFile: string | undefined, running: ServerConfig, overrides: (fromFile: ServerConfig) => ServerConfig = (c) => c,
): string[] {
  let onDisk: ServerConfig
  try {
    onDisk = overrides(loadServerConfig(dataDir, configFile))
  } catch (error) {
    return [(error as Error).message]
  }
  const differences: string[] = []
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        walk((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`)
      }
    } else if (a !== b) {
      differences.push(path)
    }
  }
  walk(onDisk, running, '')
  return differences
}
