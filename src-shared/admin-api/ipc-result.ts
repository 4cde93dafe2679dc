import type { ErrorDto } from '../error-codes'

/** How an admin call's outcome crosses a transport (Electron IPC drops custom error classes). */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorDto }
