import * as pkcs11js from 'pkcs11js'
import { SecurityServerError } from '../../platform'
import { fromPkcs11Error, isPkcs11Error } from './pkcs11-errors'

/**
 * PKCS#11 modules loaded by path, one `C_Initialize` per module per process (reliability-and-security.md §4.1),
 * shared by every token on that module and finalized when the last driver using it closes. A module left unusable by
 * a lost device (SoftHSM2 whose token directory went away and came back answers every call, even C_GetSlotList, with
 * CKR_GENERAL_ERROR until it is initialized again) is finalized and initialized again; the generation tells every
 * driver on the module that its sessions and handles went with it.
 */
export type Pkcs11Library = pkcs11js.PKCS11

const loaded = new Map<string, { library: Pkcs11Library; refs: number; generation: number }>()

export function acquireModule(path: string): Pkcs11Library {
  const entry = loaded.get(path)
  if (entry !== undefined) {
    entry.refs++
    return entry.library
  }
  const library = new pkcs11js.PKCS11()
  try {
    library.load(path)
  } catch (cause) {
    throw new SecurityServerError('hsm_non_operational', `Cannot load PKCS#11 module ${path}: ${(cause as Error).message}`, { cause })
  }
  try {
    library.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK })
  } catch (error) {
    if (!isPkcs11Error(error, pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
      library.close()
      throw fromPkcs11Error(error, `C_Initialize of ${path}`, 'hsm_non_operational')
    }
  }
  loaded.set(path, { library, refs: 1, generation: 0 })
  return library
}

/** Counts the module's re-initializations: sessions opened in an earlier generation are gone. */
export function moduleGeneration(path: string): number {
  return loaded.get(path)?.generation ?? 0
}

/**
 * `C_Finalize` then `C_Initialize` on a loaded module (through `library`, which may wrap it), after the module itself
 * stopped answering. Every session of every token on it is closed by this; the generation moves on.
 */
export function reinitializeModule(path: string, library: Pkcs11Library): void {
  const entry = loaded.get(path)
  if (entry === undefined) return
  try {
    library.C_Finalize()
  } catch {
    // A module in this state may refuse to finalize; initializing it again is what counts.
  }
  entry.generation++
  try {
    library.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK })
  } catch (error) {
    // Still unusable (SoftHSM2 cannot initialize while its token directory is gone): the next call tries again.
    if (!isPkcs11Error(error, pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
      throw new SecurityServerError('token_not_available', `C_Initialize of ${path} again: ${fromPkcs11Error(error, 'C_Initialize').message}`, { cause: error })
    }
  }
}

export function releaseModule(path: string): void {
  const entry = loaded.get(path)
  if (entry === undefined) return
  entry.refs--
  if (entry.refs > 0) return
  loaded.delete(path)
  try {
    entry.library.C_Finalize()
  } catch {
    // Finalizing a module that a removed device left in a bad state must not stop the signer from closing.
  }
  entry.library.close()
}
