import { readFileSync, statSync } from 'node:fs'
import { SecurityServerError, type PostgresOptions } from '../platform'
import { parseServerConfig, type ClusterConfig, type ServerConfig } from './server-config'

/**
 * The command line's cluster options (`gatehouse serve --cluster-node NAME --cluster-role primary|secondary
 * --cluster-db postgres://user[:password]@host:port/database?schema=S`): each overrides or completes the bootstrap
 * file's `cluster` section; the result is validated as the file is.
 */
export interface ClusterOverrides {
  node?: string
  role?: string
  /** postgres://user[:password]@host[:port]/database[?schema=S] (postgresql:// too). */
  db?: string
}

export function applyClusterOverrides(config: ServerConfig, overrides: ClusterOverrides): ServerConfig {
  if (overrides.node === undefined && overrides.role === undefined && overrides.db === undefined) return config
  const current: Partial<ClusterConfig> = config.cluster ?? {}
  const postgres = overrides.db === undefined ? current.postgres : { ...current.postgres, ...parseClusterDbUrl(overrides.db) }
  const cluster = {
    ...current,
    ...(overrides.node === undefined ? {} : { node: overrides.node }),
    ...(overrides.role === undefined ? {} : { role: overrides.role }),
    ...(postgres === undefined ? {} : { postgres }),
  }
  return parseServerConfig({ ...config, cluster }, 'the command line (--cluster-*)')
}

/** The fields a `postgres://` URL gives; a password in the URL replaces a password file. */
export function parseClusterDbUrl(text: string): Record<string, unknown> {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw usage(`--cluster-db is not a URL (postgres://user@host:port/database?schema=S)`)
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw usage(`--cluster-db must be a postgres:// URL (got ${url.protocol})`)
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (url.hostname === '' || url.username === '' || database === '') throw usage('--cluster-db needs a user, a host and a database: postgres://user@host:port/database')
  for (const key of url.searchParams.keys()) if (key !== 'schema') throw usage(`--cluster-db: unknown parameter ${JSON.stringify(key.slice(0, 40))} (only schema)`)
  const schema = url.searchParams.get('schema')
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    user: decodeURIComponent(url.username),
    database,
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password), passwordFile: undefined }),
    ...(schema === null ? {} : { schema }),
  }
}

/**
 * How this node connects to the shared database: the password from `password`, else the first line of
 * `passwordFile` (which must not be readable by others), else PGPASSWORD, else none (trust or peer authentication).
 */
export function clusterPostgresOptions(cluster: ClusterConfig, purpose: string): PostgresOptions {
  const { postgres } = cluster
  let password = postgres.password
  if (password === undefined && postgres.passwordFile !== undefined) {
    let mode: number
    try {
      mode = statSync(postgres.passwordFile).mode
    } catch (cause) {
      throw new SecurityServerError('invalid_config', `cluster.postgres.passwordFile ${postgres.passwordFile} cannot be read`, { cause, clientFault: true })
    }
    if ((mode & 0o077) !== 0) throw usage(`cluster.postgres.passwordFile ${postgres.passwordFile} is readable by other users; chmod 600 it`)
    password = readFileSync(postgres.passwordFile, 'utf8').split(/\r?\n/)[0]
  }
  password ??= process.env.PGPASSWORD === '' ? undefined : process.env.PGPASSWORD
  return {
    host: postgres.host,
    port: postgres.port,
    user: postgres.user,
    database: postgres.database,
    ...(password === undefined ? {} : { password }),
    ...(postgres.schema === undefined ? {} : { schema: postgres.schema }),
    applicationName: `gatehouse ${cluster.node} ${purpose}`.slice(0, 63),
  }
}

function usage(message: string): SecurityServerError {
  return new SecurityServerError('invalid_config', message, { clientFault: true, detail: 'cluster' })
}
