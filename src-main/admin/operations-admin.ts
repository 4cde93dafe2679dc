import { z } from 'zod'
import type { OperationsApi } from '@shared/admin-api/operations-api'
import { clientError } from '../platform'
import { validate } from './admin-validation'
import { encodeId, parseClientRef, parseServiceRef, type DomainsOf } from './domain-support'

/**
 * The operations group: the operational-monitoring records of a time range as the operator reads them (traffic per
 * service and client, failures by X-Road fault code, latency percentiles), and the failed exchanges behind a figure
 * (each with its query id, which opens its message-log records).
 */
const isoTime = z.iso.datetime({ offset: true })
/** The longest range one query may cover: a year (retention is at most 365 days). */
const MAX_RANGE_SECONDS = 366 * 86_400
const rangeFields = { from: isoTime, to: isoTime, side: z.enum(['all', 'client', 'producer']).optional() }
const summarySchema = z.object(rangeFields).strict()
const failuresSchema = z.object({
  ...rangeFields,
  faultCode: z.string().max(300).optional(),
  service: z.string().max(1200).optional(),
  client: z.string().max(1200).optional(),
  limit: z.number().int().min(1).max(500).optional(),
}).strict()

function rangeOf(q: { from: string; to: string }): { fromS: number; toS: number } {
  const fromS = Math.floor(Date.parse(q.from) / 1000)
  const toS = Math.ceil(Date.parse(q.to) / 1000)
  if (toS <= fromS) throw clientError('validation_failed', 'The end of the range must come after its start', { detail: 'to' })
  if (toS - fromS > MAX_RANGE_SECONDS) throw clientError('validation_failed', 'A range covers at most a year', { detail: 'from' })
  return { fromS, toS }
}

export function createOperationsAdmin(domains: DomainsOf): OperationsApi {
  return {
    async summary(input) {
      const q = validate(summarySchema, input, 'operations range')
      return domains().opMonitor.summary({ ...rangeOf(q), side: q.side ?? 'all' })
    },
    async failures(input) {
      const q = validate(failuresSchema, input, 'failure search')
      const side = q.side === 'client' ? 'Client' as const : q.side === 'producer' ? 'Producer' as const : undefined
      const blank = (v: string | undefined): boolean => v === undefined || v.trim() === ''
      return domains().opMonitor.failures({
        ...rangeOf(q),
        ...(side === undefined ? {} : { side }),
        ...(q.faultCode === undefined ? {} : { faultCode: q.faultCode }),
        ...(blank(q.service) ? {} : { service: encodeId(parseServiceRef(q.service)) }),
        ...(blank(q.client) ? {} : { client: encodeId(parseClientRef(q.client)) }),
      }, q.limit ?? 100)
    },
  }
}
