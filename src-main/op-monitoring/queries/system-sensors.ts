import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, statfsSync } from 'node:fs'
import { cpus, freemem, release, totalmem, type as osType } from 'node:os'
import { parse as parsePath } from 'node:path'

/**
 * What the environment can tell about itself, read the way X-Road's environmental monitoring sensors read it
 * (`SystemMetricsSensor`, `DiskSpaceSensor`, `ExecListingSensor`). Every reading is either what the operating
 * system reports or absent: a value the platform does not offer (swap, file descriptors and virtual memory come from
 * Linux's /proc; processes from `ps`; packages from `dpkg-query` or `rpm`) is left out, never guessed.
 */
export interface CpuTimes {
  idle: number
  total: number
}

export function cpuTimes(): CpuTimes {
  let idle = 0
  let total = 0
  for (const cpu of cpus()) {
    idle += cpu.times.idle
    total += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq + cpu.times.idle
  }
  return { idle, total }
}

/** Share of all CPUs busy between two readings, 0..1 (`OperatingSystemMXBean.getSystemCpuLoad`); undefined without time between them. */
export function cpuLoadBetween(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total
  if (total <= 0) return undefined
  return Math.min(1, Math.max(0, 1 - (after.idle - before.idle) / total))
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** `OperatingSystem`: the first line of /proc/version, as X-Road's `OsInfoLister` runs `cat /proc/version`; elsewhere the kernel's name and release. */
export function operatingSystem(): string {
  const version = readText('/proc/version')
  const line = version?.split('\n')[0]?.trim()
  return line !== undefined && line !== '' ? line : `${osType()} ${release()}`
}

/** A `Name:  value kB` field of /proc/meminfo or /proc/self/status, in bytes. */
function kbField(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}:`)) continue
    const match = /^\s*(\d+)\s*kB\s*$/.exec(line.slice(name.length + 1))
    return match === null ? undefined : Number(match[1]) * 1024
  }
  return undefined
}

export interface MemoryReading {
  totalPhysicalMemory: number
  freePhysicalMemory: number
  totalSwapSpace?: number
  freeSwapSpace?: number
  /** Virtual memory of this process (VmSize), X-Road's `CommittedVirtualMemory`. */
  committedVirtualMemory?: number
}

export function memory(): MemoryReading {
  const meminfo = readText('/proc/meminfo')
  const totalSwapSpace = kbField(meminfo, 'SwapTotal')
  const freeSwapSpace = kbField(meminfo, 'SwapFree')
  const committedVirtualMemory = kbField(readText('/proc/self/status'), 'VmSize')
  return {
    totalPhysicalMemory: totalmem(),
    freePhysicalMemory: freemem(),
    ...(totalSwapSpace === undefined ? {} : { totalSwapSpace }),
    ...(freeSwapSpace === undefined ? {} : { freeSwapSpace }),
    ...(committedVirtualMemory === undefined ? {} : { committedVirtualMemory }),
  }
}

export interface FileDescriptorReading {
  open?: number
  max?: number
}

/** Open descriptors of this process (/proc/self/fd) and its soft limit (`Max open files` in /proc/self/limits). */
export function fileDescriptors(): FileDescriptorReading {
  let open: number | undefined
  try {
    open = readdirSync('/proc/self/fd').length
  } catch {
    open = undefined
  }
  const limits = readText('/proc/self/limits')
  const line = limits?.split('\n').find((l) => l.startsWith('Max open files'))
  const soft = line === undefined ? undefined : /^Max open files\s+(\d+)\s/.exec(line)?.[1]
  return { ...(open === undefined ? {} : { open }), ...(soft === undefined ? {} : { max: Number(soft) }) }
}

export interface DiskReading {
  /** The file-system root, as Java's `File.listRoots()` names it (`/` on Unix). */
  root: string
  total: number
  free: number
}

/** Total and unallocated space of the file system holding `path`'s root (`File.getTotalSpace`, `getFreeSpace`). */
export function diskSpace(path: string): DiskReading | undefined {
  const root = parsePath(path).root || '/'
  try {
    const s = statfsSync(root)
    return { root, total: s.blocks * s.bsize, free: s.bfree * s.bsize }
  } catch {
    return undefined
  }
}

/** Runs a listing command with a bounded output and time; undefined when it is not there or fails. */
function run(command: string, args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 10_000, maxBuffer: 8 * 1024 * 1024, encoding: 'utf8' }, (error, stdout) => {
      resolve(error === null ? stdout : undefined)
    })
  })
}

export interface ProcessInfo {
  processId: string
  command: string
  cpuLoad: string
  memUsed: string
  startTime: string
  userId: string
}

/** X-Road's `ProcessLister`: `ps -aew --format user,pcpu,start_time,pmem,pid,comm` (procps). */
export async function processes(): Promise<ProcessInfo[] | undefined> {
  const out = await run('ps', ['-aew', '--format', 'user,pcpu,start_time,pmem,pid,comm'])
  if (out === undefined) return undefined
  const list: ProcessInfo[] = []
  for (const line of out.split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/)
    if (columns.length < 6) continue
    const [userId, cpuLoad, startTime, memUsed, processId, ...command] = columns as [string, string, string, string, string, ...string[]]
    list.push({ processId, command: command.join(' '), cpuLoad, memUsed, startTime, userId })
  }
  return list
}

export interface PackageInfo {
  name: string
  version: string
}

/** X-Road's `PackageLister`: `rpm -qa` on Red Hat, `dpkg-query --show` elsewhere; `name/version` per line. */
export async function packages(): Promise<PackageInfo[] | undefined> {
  const redHat = readText('/etc/redhat-release') !== undefined
  const out = redHat
    ? await run('rpm', ['-qa', '--queryformat', '%{NAME}/%{VERSION}-%{RELEASE}\n'])
    : await run('dpkg-query', ['--show', '--showformat', '${Package}/${Version}\n'])
  if (out === undefined) return undefined
  const list: PackageInfo[] = []
  for (const line of out.split('\n')) {
    const slash = line.indexOf('/')
    if (slash > 0) list.push({ name: line.slice(0, slash), version: line.slice(slash + 1) })
  }
  return list
}
