import { z } from 'zod'
import { SecurityServerError } from '../platform'

/**
 * Message-log system parameters with X-Road's defaults (reliability-and-security.md §1.1–1.2, §1.7;
 * UG-SYSPAR `[message-log]`). Every field is optional for callers; `resolveMessageLogSettings` fills defaults.
 */
export const messageLogSettingsSchema = z.object({
  /** `max-loggable-message-body-size`: bodies above it are rejected, never truncated (§1.1). */
  maxLoggableBodySize: z.number().int().positive().default(10 * 1024 * 1024),
  /** `message-body-logging` for the whole server. */
  messageBodyLogging: z.boolean().default(true),
  /** Encoded subsystem ids (`SUBSYSTEM:…`) with body logging on although it is off server-wide. */
  bodyLoggingEnabledSubsystems: z.array(z.string()).default([]),
  /** Encoded subsystem ids with body logging off although it is on server-wide. */
  bodyLoggingDisabledSubsystems: z.array(z.string()).default([]),
  /**
   * Group commit: records arriving within this window share one transaction. 0 (the default) groups the records of
   * one event-loop turn: a lone message waits for no timer, and under load everything that arrived while the
   * previous commit's fsync ran shares the next one.
   */
  groupCommitWindowMs: z.number().int().min(0).max(100).default(0),
  /** Group commit: a transaction is committed at once when this many records wait. */
  groupCommitMaxRecords: z.number().int().min(1).max(10_000).default(200),
  /** `acceptable-timestamp-failure-period` in seconds; 0 disables fail-closed (§1.2). */
  acceptableTimestampFailurePeriodSeconds: z.number().int().min(0).default(14_400),
  /** `timeStampingIntervalSeconds` from global configuration (default 60). */
  timeStampingIntervalSeconds: z.number().int().min(1).max(86_400).default(60),
  /** `timestamp-immediately`: stamp every record singly before the exchange proceeds. */
  timestampImmediately: z.boolean().default(false),
  /** `timestamp-records-limit`: records per batch time-stamp request. */
  timestampRecordsLimit: z.number().int().min(1).max(100_000).default(10_000),
  /** TSA HTTP timeout (X-Road: connect 20 s, read 60 s). */
  tsaTimeoutMs: z.number().int().min(100).default(60_000),
  /** `archive-interval`: seconds between archiving runs. */
  archiveIntervalSeconds: z.number().int().min(1).default(24 * 3600),
  /** `archive-path`; archiving is off when absent. */
  archiveDir: z.string().optional(),
  /** `archive-grouping`. */
  archiveGrouping: z.enum(['none', 'member', 'subsystem']).default('none'),
  /** `archive-max-filesize`: an archive is closed once its containers reach this many bytes (X-Road: 32 MiB). */
  archiveMaxFileSize: z.number().int().min(1).default(33_554_432),
  /** At most this many records per archive file. */
  archiveMaxRecords: z.number().int().min(1).default(10_000),
  /** `keep-records-for` in days: archived records are purged after this. */
  keepRecordsForDays: z.number().min(0).default(30),
  /** `archive-transfer-command`: run with the archive path after each archive is written. */
  archiveTransferCommand: z.array(z.string()).min(1).optional(),
  /**
   * Gatehouse: refuse new messages while the evidence check has found acknowledged records missing or altered and no
   * administrator has acknowledged it (`message-log.evidence-loss-fail-closed`; `evidence-check.ts`).
   */
  evidenceLossFailClosed: z.boolean().default(true),
  /** `hash-algo-id` of the archive linking chain. */
  archiveHashAlgorithm: z.enum(['SHA-256', 'SHA-384', 'SHA-512']).default('SHA-512'),
})

export type MessageLogSettingsInput = z.input<typeof messageLogSettingsSchema>
export type MessageLogSettings = z.output<typeof messageLogSettingsSchema>

export function resolveMessageLogSettings(input: MessageLogSettingsInput = {}): MessageLogSettings {
  const parsed = messageLogSettingsSchema.safeParse(input)
  if (!parsed.success) {
    throw new SecurityServerError('invalid_config', 'Invalid message-log settings', { detail: parsed.error.message })
  }
  return parsed.data
}
