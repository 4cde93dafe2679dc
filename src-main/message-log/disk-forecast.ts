import { statfsSync } from 'node:fs'
import type { Clock, ReadableDb } from '../platform'
import { volumeSince } from './message-record-repository'

/**
 * Disk-use forecast for the GUI and diagnostics: records/day × average stored size over a recent window, and the days
 * until the volume holding the message log fills at that rate (X-Road's most common outage is log growth).
 */
export interface DiskUseForecast {
  windowDays: number
  recordsPerDay: number
  averageRecordBytes: number
  bytesPerDay: number
  freeBytes: number
  totalBytes: number
  /** null when nothing is being logged. */
  daysUntilFull: number | null
}

export function diskUseForecast(db: ReadableDb, volumePath: string, clock: Clock, windowDays = 7): DiskUseForecast {
  const now = clock.now().getTime()
  const stats = volumeSince(db, now - windowDays * 86_400_000)
  const fs = statfsSync(volumePath)
  const freeBytes = Number(fs.bavail) * Number(fs.bsize)
  const totalBytes = Number(fs.blocks) * Number(fs.bsize)
  const recordsPerDay = stats.records / windowDays
  const averageRecordBytes = stats.records === 0 ? 0 : stats.bytes / stats.records
  const bytesPerDay = recordsPerDay * averageRecordBytes
  return {
    windowDays,
    recordsPerDay,
    averageRecordBytes,
    bytesPerDay,
    freeBytes,
    totalBytes,
    daysUntilFull: bytesPerDay === 0 ? null : freeBytes / bytesPerDay,
  }
}
