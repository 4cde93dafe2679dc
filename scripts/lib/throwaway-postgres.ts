import { execFile, execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

/**
 * A throw-away PostgreSQL cluster for tests and the cluster demo (issue 18): Debian's `postgresql` binaries
 * (`initdb`, `pg_ctl`), a data directory in a temporary folder, listening on 127.0.0.1 only on a free port with its
 * unix socket inside the folder, trust authentication for one superuser, removed when stopped. PostgreSQL refuses to
 * run as root, so under root (CI containers) the server runs as the `postgres` system user the package creates.
 */
const run = promisify(execFile)

export interface ThrowawayPostgres {
  readonly host: '127.0.0.1'
  readonly port: number
  readonly user: string
  /** The database created with the cluster (`postgres`). */
  readonly database: string
  readonly dir: string
  readonly socketDir: string
  /** Stops the server (immediate shutdown: nothing here is worth keeping) and removes its folder. */
  stop(): Promise<void>
}

export interface ThrowawayPostgresOptions {
  /** Durability off (fsync, synchronous_commit, full_page_writes) for speed; the demo's fail-over keeps it on. */
  fast?: boolean
  /** Where the binaries are (default: GATEHOUSE_PG_BIN when set, else the newest /usr/lib/postgresql/N/bin). */
  binDir?: string
}

/** The folder holding `initdb` and `pg_ctl` (only GATEHOUSE_PG_BIN's, when set), or undefined when PostgreSQL is not installed. */
export function findPostgresBinaries(): string | undefined {
  const chosen = process.env.GATEHOUSE_PG_BIN
  const root = '/usr/lib/postgresql'
  const candidates = chosen !== undefined && chosen !== ''
    ? [chosen]
    : existsSync(root)
      ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin'))
      : []
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')))
}

const USER = 'gatehouse'

export async function startThrowawayPostgres(options: ThrowawayPostgresOptions = {}): Promise<ThrowawayPostgres> {
  const bin = options.binDir ?? findPostgresBinaries()
  if (bin === undefined) throw new Error('PostgreSQL binaries (initdb, pg_ctl) not found: install Debian\'s postgresql package or set GATEHOUSE_PG_BIN')
  const runAs = await serverAccount()
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'))
  const data = join(dir, 'data')
  const socketDir = join(dir, 'socket')
  mkdirSync(socketDir)
  if (runAs !== undefined) for (const path of [dir, socketDir]) chownSync(path, runAs.uid, runAs.gid)
  const argv = (program: string, args: string[]): [string, string[]] =>
    runAs === undefined ? [join(bin, program), args] : ['runuser', ['-u', runAs.name, '--', join(bin, program), ...args]]
  const command = (program: string, args: string[]): Promise<unknown> => run(...argv(program, args))
  try {
    await command('initdb', ['-D', data, '-U', USER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync', '--no-instructions'])
    const settings = [
      '-c listen_addresses=127.0.0.1', `-c unix_socket_directories=${socketDir}`, '-c max_connections=40', '-c shared_buffers=16MB',
      ...(options.fast === true ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
    ]
    let port = 0
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      try {
        await command('pg_ctl', ['-D', data, '-l', join(dir, 'postgres.log'), '-w', '-t', '60', '-o', [`-p ${port}`, ...settings].join(' '), 'start'])
        break
      } catch (error) {
        // Another process may have taken the port between the probe and the start: try another, a few times.
        if (attempt >= 3) throw new Error(`pg_ctl start failed: ${(error as Error).message}\n${logTail(dir)}`)
      }
    }
    let stopped = false
    // pg_ctl leaves the server running on its own: a process that exits without stop() (a failed run, an uncaught
    // error) still takes it down, synchronously, on its way out.
    const onExit = (): void => {
      try {
        execFileSync(...argv('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']), { stdio: 'ignore' })
      } catch {
        // Already stopped; the folder goes either way.
      }
      rmSync(dir, { recursive: true, force: true })
    }
    process.once('exit', onExit)
    return {
      host: '127.0.0.1', port, user: USER, database: 'postgres', dir, socketDir,
      async stop() {
        if (stopped) return
        stopped = true
        process.off('exit', onExit)
        try {
          await command('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      },
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/** Under root, the `postgres` account (Debian's package creates it); otherwise the current user runs the server. */
async function serverAccount(): Promise<{ name: string; uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim())
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim())
    return { name: 'postgres', uid, gid }
  } catch {
    throw new Error('PostgreSQL does not run as root and there is no postgres user to run it as (Debian\'s postgresql package creates one)')
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'postgres.log'), 'utf8').slice(-2000)
  } catch {
    return '(no server log)'
  }
}
