import { create } from 'zustand'
import { BACKUP_CHUNK_BYTES, type RestoreResultDto } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'
import { localizeBackupError } from '../settings/backup-store'

/**
 * Restoring a backup into this fresh server (first-run page): the file goes to the server in pieces (both transports
 * carry JSON), then the server decrypts and checks it aside and restarts with it. A refused restore (wrong passphrase)
 * keeps the upload, so trying another passphrase does not send the file again.
 */
export type RestorePhase = 'idle' | 'uploading' | 'checking' | 'restarting' | 'done' | 'back'

interface RestoreState {
  phase: RestorePhase
  progress: number
  error: unknown
  result: RestoreResultDto | null
  /** The upload of the chosen file, kept after a refusal. */
  upload: { file: File; id: string } | null
  restore(file: File, passphrase: string): Promise<void>
  reset(): void
}

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function answers(): Promise<boolean> {
  try {
    await adminClient().session()
    return true
  } catch {
    return false
  }
}

/** Waits for the restart: the server going away (up to 15 s), then answering again (up to two minutes). */
async function serverBack(): Promise<boolean> {
  const down = Date.now() + 15_000
  while (Date.now() < down && (await answers())) await pause(300)
  const end = Date.now() + 120_000
  while (Date.now() < end) {
    if (await answers()) return true
    await pause(1000)
  }
  return false
}

export const useRestoreStore = create<RestoreState>((set, get) => ({
  phase: 'idle', progress: 0, error: null, result: null, upload: null,
  async restore(file, passphrase) {
    set({ error: null, result: null })
    try {
      let upload = get().upload
      if (upload === null || upload.file !== file) {
        set({ phase: 'uploading', progress: 0, upload: null })
        let id: string | undefined
        for (let offset = 0; offset < file.size || offset === 0; offset += BACKUP_CHUNK_BYTES) {
          const bytes = new Uint8Array(await file.slice(offset, offset + BACKUP_CHUNK_BYTES).arrayBuffer())
          const answer = await adminClient().call('system', 'uploadBackup', { ...(id === undefined ? {} : { upload: id }), offset, data: toBase64(bytes) })
          id = answer.upload
          set({ progress: file.size === 0 ? 1 : Math.min(1, answer.size / file.size) })
          if (file.size === 0) break
        }
        upload = { file, id: id as string }
        set({ upload })
      }
      set({ phase: 'checking' })
      const result = await adminClient().call('system', 'restore', { upload: upload.id, passphrase })
      set({ result, upload: null, phase: result.restarting ? 'restarting' : 'done' })
      if (result.restarting && (await serverBack())) {
        set({ phase: 'back' })
        // A new page for the restored server: its sign-in, then its dashboard.
        window.location.hash = '#/dashboard'
        window.location.reload()
      }
    } catch (error) {
      set({ phase: 'idle', error: localizeBackupError(error) })
    }
  },
  reset: () => set({ phase: 'idle', progress: 0, error: null, result: null, upload: null }),
}))
