import * as pkcs11js from 'pkcs11js'
import type { Pkcs11Library } from './pkcs11-module'

/**
 * A driver-level fault injector around a loaded PKCS#11 module (reliability-and-security.md test catalogue F):
 * while a fault is active every `C_*` call throws `Pkcs11Error` with the chosen CKR, as a removed device or a lost
 * session would; extra token-info flags can be forced (e.g. `CKF_USER_PIN_COUNT_LOW`). Used by tests and benches.
 */
export interface FaultInjector {
  readonly library: Pkcs11Library
  /** Every C_* call fails with `ckr` for `durationMs` (or until `heal`). */
  fail(ckr: number, durationMs?: number): void
  heal(): void
  /** Flags OR-ed into `C_GetTokenInfo().flags`. */
  forceTokenFlags(flags: number): void
  /** Calls per function name, counted whether they failed or not. */
  readonly calls: Map<string, number>
  /** Delay added before each `C_SignAsync` (a slow device). */
  setSignDelay(ms: number): void
}

export const CKR = {
  DEVICE_REMOVED: pkcs11js.CKR_DEVICE_REMOVED,
  TOKEN_NOT_PRESENT: pkcs11js.CKR_TOKEN_NOT_PRESENT,
  SESSION_HANDLE_INVALID: pkcs11js.CKR_SESSION_HANDLE_INVALID,
  SESSION_CLOSED: pkcs11js.CKR_SESSION_CLOSED,
  DEVICE_ERROR: pkcs11js.CKR_DEVICE_ERROR,
  PIN_INCORRECT: pkcs11js.CKR_PIN_INCORRECT,
} as const

export const CKF = {
  USER_PIN_COUNT_LOW: pkcs11js.CKF_USER_PIN_COUNT_LOW,
  USER_PIN_FINAL_TRY: pkcs11js.CKF_USER_PIN_FINAL_TRY,
  USER_PIN_LOCKED: pkcs11js.CKF_USER_PIN_LOCKED,
} as const

export function createFaultInjector(library: Pkcs11Library): FaultInjector {
  let fault: { ckr: number; until: number } | undefined
  let extraFlags = 0
  let signDelay = 0
  const calls = new Map<string, number>()
  const proxy = new Proxy(library, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof prop !== 'string' || !prop.startsWith('C_') || typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1)
        if (fault !== undefined && Date.now() >= fault.until) fault = undefined
        if (fault !== undefined && prop !== 'C_Finalize' && prop !== 'C_CloseSession') {
          const error = new pkcs11js.Pkcs11Error(`injected fault 0x${fault.ckr.toString(16)}`, fault.ckr, prop)
          if (prop.endsWith('Async')) return Promise.reject(error)
          throw error
        }
        const result = (value as (...a: unknown[]) => unknown).apply(target, args)
        if (prop === 'C_GetTokenInfo' && extraFlags !== 0) {
          const info = result as pkcs11js.TokenInfo
          return { ...info, flags: info.flags | extraFlags }
        }
        if (prop === 'C_SignAsync' && signDelay > 0) {
          return new Promise((resolve) => setTimeout(resolve, signDelay)).then(() => result)
        }
        return result
      }
    },
  })
  return {
    library: proxy,
    calls,
    fail(ckr, durationMs = Number.POSITIVE_INFINITY) {
      fault = { ckr, until: Date.now() + durationMs }
    },
    heal() {
      fault = undefined
    },
    forceTokenFlags(flags) {
      extraFlags = flags
    },
    setSignDelay(ms) {
      signDelay = ms
    },
  }
}
