import { spawnSync } from 'node:child_process'
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { ClassContext } from './fault-context'
import type { ServerProcess, Side } from './fault-pair'
import { isAcknowledged } from './fault-load'
import { MESSAGE_LOG_FILE } from './fault-evidence'

/**
 * disk-full-provider / disk-full-consumer: the server's data directory on a real, size-limited file system that fills
 * up mid-load, then gets space back. Without root a process cannot mount one, but it can in its own user and mount
 * namespace (`unshare --user --map-root-user --mount`, unprivileged on Linux with user namespaces enabled): the
 * server runs there with a tmpfs of a few MiB mounted over its data directory (its files copied in first), and the
 * harness reaches that tmpfs through /proc/PID/root. It writes a ballast file until the kernel answers ENOSPC, so
 * SQLite's own writes fail as they would on a full disk (SQLITE_FULL), nothing injected; deleting the ballast
 * gives the space back. Expected: no message acknowledged without its records (the server refuses instead, with
 * `logging_failed` or another X-Road error, never a 2xx), and traffic again once there is space, without a restart.
 */

const HEADROOM_MIB = 24

/** Whether this machine lets an unprivileged process mount a tmpfs in its own namespaces. */
export function namespacedTmpfsAvailable(): boolean {
  const probe = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d" && rmdir "$d"'], {
    stdio: 'ignore', timeout: 10_000,
  })
  return probe.status === 0
}

function duMib(dir: string): number {
  const du = spawnSync('du', ['-sm', dir], { encoding: 'utf8', timeout: 30_000 })
  return Number(/^(\d+)/.exec(du.stdout)?.[1] ?? 50)
}

/** Starts `server` inside its own namespaces with its data directory on a tmpfs of `sizeMib`. */
async function startOnTmpfs(server: ServerProcess, sizeMib: number): Promise<void> {
  const seed = `${server.dataDir}.disk-seed`
  mkdirSync(seed, { recursive: true })
  const script = [
    'set -e',
    'mount --bind "$1" "$2"',
    `mount -t tmpfs -o size=${sizeMib}m,mode=0700 tmpfs "$1"`,
    'cp -a "$2"/. "$1"/',
    'umount "$2"',
    'shift 2',
    'exec "$@"',
  ].join('\n')
  await server.start({
    wrap: (argv) => ({ command: 'unshare', args: ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', server.dataDir, seed, ...argv] }),
  })
}

/** Fills the file system holding `dir` with a ballast file until ENOSPC; the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, 'w')
  const chunk = Buffer.alloc(64 * 1024, 0x5a)
  let written = 0
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break
        throw error
      }
    }
    // The last partial blocks: smaller writes until nothing fits.
    for (let size = 32 * 1024; size >= 512; size /= 2) {
      try {
        for (;;) written += writeSync(fd, chunk.subarray(0, size))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
      }
    }
  } finally {
    closeSync(fd)
  }
  return written
}

export async function diskFullClass(ctx: ClassContext, side: Side): Promise<void> {
  const server = ctx.server(side)
  if (!namespacedTmpfsAvailable()) {
    ctx.note(`skipped: this machine does not let a process mount a tmpfs in its own user namespace (unshare -Urm)`)
    return
  }
  const size = duMib(server.dataDir) + HEADROOM_MIB
  await server.stop()
  await startOnTmpfs(server, size)
  /** The data directory as the server sees it, from here. */
  const seen = (): string => join(`/proc/${server.pid ?? 0}/root`, server.dataDir)
  try {
    for (let trial = 1; trial <= ctx.sizes.diskTrials; trial++) {
      ctx.startLoad()
      const ballast = join(seen(), `ballast-${trial}`)
      try {
        if ((await ctx.waitForTraffic(Date.now(), 60_000)) === undefined) throw new Error('no traffic before the disk filled')
        await ctx.pause(ctx.between(500, 1500))
        const filledAt = Date.now()
        const bytes = fill(ballast)
        ctx.report.trials++
        const refusal = await ctx.waitForRefusal(filledAt, 60_000)
        if (refusal === undefined) {
          ctx.note(`trial ${trial}: ${(bytes / 2 ** 20).toFixed(1)} MiB ballast filled the ${size} MiB file system, but no message was refused within 60 s`)
        } else {
          ctx.note(`trial ${trial}: file system full (${(bytes / 2 ** 20).toFixed(1)} MiB ballast); first refusal after ${((refusal.atMs - filledAt) / 1000).toFixed(1)} s: ${refusal.code || `HTTP ${refusal.status}`}`)
        }
        await ctx.pause(ctx.sizes.holdMs)
        const during = ctx.all().filter((o) => o.sentAtMs >= filledAt)
        const codes = new Map<string, number>()
        for (const o of during.filter((x) => !isAcknowledged(x))) codes.set(o.code || `HTTP ${o.status}`, (codes.get(o.code || `HTTP ${o.status}`) ?? 0) + 1)
        ctx.note(`trial ${trial}: while full, ${during.filter(isAcknowledged).length} acknowledged, refusals ${JSON.stringify(Object.fromEntries(codes))}`)
        if (!server.running) throw new Error(`the ${side} exited while its disk was full: ${server.stderrTail()}`)
        rmSync(ballast, { force: true })
        const freedAt = Date.now()
        const flowing = await ctx.waitForTraffic(freedAt, 30_000)
        if (flowing === undefined) ctx.fail(`trial ${trial}: no traffic within 30 s of the space returning`)
        else {
          ctx.report.recoveredWithoutRestart++
          ctx.note(`trial ${trial}: traffic flowed again ${((flowing - freedAt) / 1000).toFixed(1)} s after the space returned`)
        }
        await ctx.pause(ctx.sizes.holdMs / 3)
      } finally {
        rmSync(ballast, { force: true })
        await ctx.stopLoad()
      }
    }
    // The records are checked while the server still runs (idle now): its tmpfs goes away with it. SQLite resolves
    // the /proc/PID/root link to "/" (and would read the file on disk underneath), so the log is copied out first.
    const copy = join(ctx.pair.built.dir, `${side}-disk-full-log`)
    rmSync(copy, { recursive: true, force: true })
    mkdirSync(copy)
    for (const file of [MESSAGE_LOG_FILE, `${MESSAGE_LOG_FILE}-wal`]) {
      if (existsSync(join(seen(), file))) copyFileSync(join(seen(), file), join(copy, file))
    }
    ctx.countUnrecorded({ [side]: copy })
  } finally {
    await server.stop()
    rmSync(`${server.dataDir}.disk-seed`, { recursive: true, force: true })
    await server.start()
  }
}
