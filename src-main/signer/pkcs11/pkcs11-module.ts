import * as pkcs11js from 'pkcs11js'
import { SecurityServerError } from '../../platform'
import { fromPkcs11Error, isPkcs11Error } from './pkcs11-errors'

/**
 * PKCS#11 modules loaded by path, one `C_Initialize` per module per process (reliability-and-security.md §4.1),
 * shared by every token on that module and finalized when the last driver using it closes.
 */
export type Pkcs11Library = pkcs11js.PKCS11

const loaded = new Map<string, { library: Pkcs11Library; refs: number }>()

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
  loaded.set(path, { library, refs: 1 })
  return library
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
