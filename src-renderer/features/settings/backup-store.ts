import { create } from 'zustand'
import { BACKUP_PASSPHRASE_MIN, type BackupCreatedDto, type BackupsDto } from '@shared/admin-api/admin-api'
import { translate } from '../../i18n'
import { AdminError, adminClient } from '../../lib/admin-client'
import { localizeError } from '../../lib/localized-error'
import { saveBlob } from '../../lib/save-file'

/**
 * The Backup and restore card: the server's backup files, the schedule, making one now, downloading (in pieces, over
 * either transport) and deleting one.
 */
interface BackupState {
  data: BackupsDto | null
  loading: boolean
  busy: boolean
  error: unknown
  /** The backup just made, for the confirmation. */
  created: BackupCreatedDto | null
  /** Name and progress (0..1) of the download under way. */
  download: { name: string; progress: number } | null
  load(): Promise<void>
  create(passphrase: string): Promise<boolean>
  setSchedule(passphrase: string | null): Promise<boolean>
  save(name: string): Promise<void>
  remove(name: string): Promise<void>
  clear(): void
}

/** The problem with a new passphrase and its repetition, or null. */
export function passphraseProblem(passphrase: string, repeat: string): string | null {
  if (passphrase.length < BACKUP_PASSPHRASE_MIN) return translate('backup:errors.passphraseShort', { min: BACKUP_PASSPHRASE_MIN })
  return passphrase === repeat ? null : translate('backup:errors.passphraseDiffer')
}

/** A refusal of a backup or restore in the reader's language (the server names the reason in `detail`). */
export function localizeBackupError(error: unknown): unknown {
  return localizeError(error, (code, detail) => {
    if ((code === 'backup_invalid' || detail === 'not-fresh' || detail === 'cluster') && detail !== undefined) {
      const key = `backup:errors.${detail}`
      const reason = error instanceof AdminError ? error.message : ''
      return translate(key, { reason: /[.!?]$/.test(reason) ? reason : `${reason}.` })
    }
    return undefined
  })
}

export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export const useBackupStore = create<BackupState>((set, get) => {
  const attempt = async (work: () => Promise<void>): Promise<boolean> => {
    set({ busy: true, error: null })
    try {
      await work()
      set({ busy: false })
      return true
    } catch (error) {
      set({ busy: false, error: localizeBackupError(error) })
      return false
    }
  }
  const refresh = async (): Promise<void> => set({ data: await adminClient().call('system', 'backups') })
  return {
    data: null, loading: false, busy: false, error: null, created: null, download: null,
    async load() {
      set({ loading: true, error: null })
      try {
        await refresh()
        set({ loading: false })
      } catch (error) {
        set({ loading: false, error })
      }
    },
    create: (passphrase) => attempt(async () => {
      set({ created: null })
      const created = await adminClient().call('system', 'backup', { passphrase })
      set({ created })
      await refresh()
    }),
    setSchedule: (passphrase) => attempt(async () => {
      await adminClient().call('system', 'setBackupSchedule', { passphrase })
      await refresh()
    }),
    async save(name) {
      set({ download: { name, progress: 0 }, error: null })
      try {
        const parts: Uint8Array<ArrayBuffer>[] = []
        let offset = 0
        for (;;) {
          const chunk = await adminClient().call('system', 'downloadBackup', { name, offset })
          const bytes = base64ToBytes(chunk.data)
          parts.push(bytes)
          offset += bytes.length
          set({ download: { name, progress: chunk.size === 0 ? 1 : offset / chunk.size } })
          if (chunk.done || bytes.length === 0) break
        }
        saveBlob(name, new Blob(parts, { type: 'application/octet-stream' }))
        set({ download: null })
      } catch (error) {
        set({ download: null, error })
      }
    },
    async remove(name) {
      await adminClient().call('system', 'deleteBackup', { name })
      set({ created: get().created?.name === name ? null : get().created })
      await refresh()
    },
    clear: () => set({ error: null, created: null }),
  }
})
