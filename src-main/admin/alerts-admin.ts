import { z } from 'zod'
import type { AlertsApi } from '@shared/admin-api/operations-api'
import type { AlertCenter } from '../alerts'
import { SecurityServerError } from '../platform'
import { validate } from './admin-validation'
import { currentCaller } from './caller-context'

/** The alerts group over the server's alert center: the list, acknowledgement by the caller, the delivery settings. */
const listSchema = z.object({ includeCleared: z.boolean().optional() }).strict()
const ackSchema = z.object({ id: z.string().min(1).max(400) }).strict()

export function createAlertsAdmin(center: AlertCenter | undefined): AlertsApi {
  const alerts = (): AlertCenter => {
    if (center === undefined) throw new SecurityServerError('unsupported', 'This admin runtime has no alert center')
    return center
  }
  return {
    async list(input) {
      const q = validate(listSchema, input ?? {}, 'alert list')
      return alerts().list(q.includeCleared ?? false)
    },
    async acknowledge(input) {
      const { id } = validate(ackSchema, input, 'alert')
      return alerts().acknowledge(id, currentCaller().actor)
    },
    async settings() {
      return alerts().settings()
    },
    async setSettings(input) {
      return alerts().setSettings(input)
    },
    async testDelivery() {
      return alerts().testDelivery()
    },
  }
}
