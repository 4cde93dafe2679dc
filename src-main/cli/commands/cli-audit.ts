import { appendAuditEntry, auditLogMigrations, redactSecrets } from '../../audit-log'
import { migrate, systemClock, toSecurityServerError, type WritableDb } from '../../platform'
import { cliActor } from './server-conf-db'

/**
 * The audit entry of one CLI change outside server configuration (signer, lab): the same hash-chained log the GUI
 * writes to, with the actor `cli:<os user>`, the object, the input and the object's state before and after — secrets
 * (PINs) never, since `redactSecrets` replaces them and the commands do not pass them.
 */
export interface CliChange {
  event: string
  object: string | null
  input: Record<string, unknown>
  /** The object's state now (read before and after the change, may be async); omit for a creation, whose result is the "after". */
  state?: () => unknown
}

function record(db: WritableDb, change: CliChange, outcome: 'success' | 'failure', errorCode: string | null, before: unknown, after: unknown): void {
  migrate(db, [auditLogMigrations])
  appendAuditEntry(db, {
    at: systemClock.now().toISOString(), actor: cliActor(), event: change.event, outcome, object: change.object, errorCode,
    data: {
      input: redactSecrets(change.input),
      ...(before === undefined ? {} : { before: redactSecrets(before) }),
      ...(after === undefined ? {} : { after: redactSecrets(after) }),
    },
  })
}

async function read(state: (() => unknown) | undefined): Promise<unknown> {
  if (state === undefined) return undefined
  try {
    return (await state()) ?? null
  } catch {
    return undefined
  }
}

/** Runs `work` and records its outcome (a failure with its error code, then rethrown for the CLI to report). */
export async function auditedChange<T>(db: WritableDb, change: CliChange, work: () => Promise<T> | T, result?: (value: T) => unknown): Promise<T> {
  const before = await read(change.state)
  let value: T
  try {
    value = await work()
  } catch (error) {
    record(db, change, 'failure', toSecurityServerError(error).code, before, undefined)
    throw error
  }
  record(db, change, 'success', null, before, change.state !== undefined ? await read(change.state) : result?.(value))
  return value
}
