import { adminMethodPolicy } from '@shared/admin-api/admin-api-methods'
import type { AdminApi } from '@shared/admin-api/admin-api'
import type { IpcResult } from '@shared/admin-api/ipc-result'
import { redactSecrets } from '../audit-log'
import { clientError, toSecurityServerError, type Logger } from '../platform'
import { auditInput, auditObject, auditState, hasStateReader } from './audit-subjects'
import { runAsCaller, type AdminCaller } from './caller-context'

/**
 * Calls one allow-listed admin method for `caller` and wraps the outcome as an IpcResult. Both transports
 * (Electron IPC and HTTPS) go through here, so neither can reach a method the allow-list does not name, nor one
 * the caller's roles do not grant (UG-SS §2). Changes and refusals are written to the audit log: who, what, which
 * object, its state before and after, the input, outcome and error code — with secrets (PINs, passwords,
 * passphrases, API key secrets) replaced by `[redacted]` (`audit-subjects.ts`).
 */
export interface AuditRecord {
  actor: string
  event: string
  outcome: 'success' | 'failure'
  errorCode: string | null
  object?: string | null
  data?: Record<string, unknown>
}

/** The entry's data: the input without secrets, and the object's state before and after where known. */
function changeData(input: Record<string, unknown>, before: unknown, after: unknown): Record<string, unknown> {
  return {
    ...(Object.keys(input).length > 0 ? { input: redactSecrets(input) } : {}),
    ...(before === undefined ? {} : { before }),
    ...(after === undefined ? {} : { after }),
  }
}

export interface DispatchContext {
  caller: AdminCaller
  audit: (record: AuditRecord) => void
  logger?: Logger
  /** Told after every successful change (an audited method), so the running server can follow it. */
  onChanged?: (event: string) => void
  /** True on a cluster's secondary node: configuration changes are refused (the primary makes them). */
  secondary?: () => boolean
}

export async function dispatchAdminCall(
  admin: AdminApi,
  context: DispatchContext,
  domain: string,
  method: string,
  args: unknown[],
): Promise<IpcResult<unknown>> {
  const { caller } = context
  const policy = adminMethodPolicy(domain, method)
  const event = `${domain}.${method}`
  let input: Record<string, unknown> = {}
  let object: string | null = null
  let before: unknown
  try {
    if (policy === undefined) throw clientError('not_found', `Unknown admin method ${event}`)
    if (!policy.roles.some((role) => caller.roles.includes(role))) {
      throw clientError('forbidden', `Your roles do not allow ${event}`, { detail: policy.roles.join(',') })
    }
    // X-Road's secondaries show the configuration read-only; only a change of this node's own state goes through.
    if (policy.audit && policy.perNode !== true && context.secondary?.() === true) {
      throw clientError('secondary_node_read_only', `This is a secondary node of a cluster: change the configuration (${event}) on the primary node`)
    }
    const target = (admin as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>)[domain]
    const fn = target?.[method]
    if (typeof fn !== 'function') throw clientError('not_found', `Admin method ${event} is not available`)
    if (policy.audit) {
      input = auditInput(args)
      object = auditObject(event, input, caller.actor)
      before = await auditState(admin, event, input)
    }
    const value = await runAsCaller(caller, () => fn.apply(target, args))
    if (policy.audit) {
      const after = hasStateReader(event) ? await auditState(admin, event, input) : value === undefined ? undefined : redactSecrets(value)
      context.audit({ actor: caller.actor, event, outcome: 'success', errorCode: null, object, data: changeData(input, before, after) })
      context.onChanged?.(event)
    }
    return { ok: true, value }
  } catch (error) {
    const coded = toSecurityServerError(error)
    if (policy !== undefined && (policy.audit || coded.code === 'forbidden')) {
      context.audit({ actor: caller.actor, event, outcome: 'failure', errorCode: coded.faultCode, object, data: changeData(input, before, undefined) })
    }
    if (!coded.clientFault) context.logger?.error({ err: coded, event }, 'admin call failed')
    return { ok: false, error: coded.toDto() }
  }
}
