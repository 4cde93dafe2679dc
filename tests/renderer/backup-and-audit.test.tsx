// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { AuditChainVerdict, BackupsDto } from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { setLanguage } from '../../src-renderer/i18n'
import { useSessionStore } from '../../src-renderer/features/login/session-store'
import { BackupCard } from '../../src-renderer/features/settings/BackupCard'
import { useBackupStore } from '../../src-renderer/features/settings/backup-store'
import { RestoreFromBackup } from '../../src-renderer/features/first-run/RestoreFromBackup'
import { useRestoreStore } from '../../src-renderer/features/first-run/restore-store'
import { AuditLogPage } from '../../src-renderer/features/audit-log/AuditLogPage'
import { useAuditLogStore } from '../../src-renderer/features/audit-log/audit-log-store'

/**
 * The Backup and restore card, the first-run restore and the audit log's chain verdict against a fake admin client:
 * what is called with what, refusals in the reader's language, the verdict in words.
 */
type Answer = unknown | ((input: unknown) => unknown)

function client(answers: Record<string, Answer>) {
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  const call = vi.fn(async (domain: string, method: string, input?: unknown): Promise<unknown> => {
    const key = `${domain}.${method}`
    if (!(key in answers)) throw new AdminError('not_found', `unexpected ${key}`)
    const answer = answers[key]
    return typeof answer === 'function' ? (answer as (i: unknown) => unknown)(input) : answer
  })
  const fake: AdminClient = { transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] }
  setAdminClient(fake)
  return call
}

const page = (node: React.ReactNode) => render(<MantineProvider>{node}</MantineProvider>)

const BACKUPS: BackupsDto = {
  directory: '/srv/gatehouse/backups',
  restoreRefusal: 'initialized',
  backups: [
    { name: 'gatehouse-SS1-20260301T100000Z-scheduled.ghbackup', size: 2_400_000, createdAt: '2026-03-01T10:00:00.000Z', kind: 'scheduled' },
    { name: 'gatehouse-SS1-20260228T090000Z.ghbackup', size: 812_000, createdAt: '2026-02-28T09:00:00.000Z', kind: 'manual' },
  ],
  schedule: { passphraseSet: false, intervalHours: 24, keepScheduled: 7, lastScheduledAt: null, nextAt: null, lastError: null },
}

afterEach(async () => {
  cleanup()
  setAdminClient(undefined)
  useBackupStore.setState({ data: null, loading: false, busy: false, error: null, created: null, download: null })
  useRestoreStore.getState().reset()
  useAuditLogStore.setState({ verdict: null, entries: [], error: null, exported: null })
  useSessionStore.setState({ session: null })
  await setLanguage('en')
})

function signIn(roles: string[]): void {
  useSessionStore.setState({ session: { authenticated: true, username: 'admin', roles, csrfToken: 't', setupRequired: false, transport: 'browser', server: { serverId: null, address: '', version: '' } } as never })
}

describe('the Backup and restore card', () => {
  it('makes a backup with a checked passphrase, sets the schedule passphrase, and deletes a backup after asking', async () => {
    signIn(['system-administrator'])
    const call = client({
      'system.backups': BACKUPS,
      'system.backup': { ...BACKUPS.backups[1], name: 'gatehouse-SS1-new.ghbackup', files: 12, databases: ['serverconf.sqlite'] },
      'system.setBackupSchedule': BACKUPS.schedule,
      'system.deleteBackup': undefined,
    })
    page(<BackupCard />)
    const table = await screen.findByRole('table', { name: 'Backup files' })
    expect(within(table).getByText('scheduled')).toBeTruthy()
    expect(within(table).getByText('by hand')).toBeTruthy()
    expect(screen.getByText(/No passphrase is set for scheduled backups/)).toBeTruthy()

    const form = screen.getByRole('form', { name: 'Back up now' })
    fireEvent.change(within(form).getByLabelText('Passphrase'), { target: { value: 'short' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Back up now' }))
    expect(await within(form).findByText('At least 10 characters')).toBeTruthy()
    expect(call).not.toHaveBeenCalledWith('system', 'backup', expect.anything())
    fireEvent.change(within(form).getByLabelText('Passphrase'), { target: { value: 'a long passphrase' } })
    fireEvent.change(within(form).getByLabelText('Repeat the passphrase'), { target: { value: 'a long passphrase' } })
    fireEvent.click(within(form).getByRole('button', { name: 'Back up now' }))
    expect(await screen.findByText('Backup gatehouse-SS1-new.ghbackup made: 12 files, 812 kB.')).toBeTruthy()
    expect(call).toHaveBeenCalledWith('system', 'backup', { passphrase: 'a long passphrase' })

    const schedule = screen.getByRole('form', { name: 'Passphrase for scheduled backups' })
    fireEvent.change(within(schedule).getByLabelText('Passphrase for scheduled backups'), { target: { value: 'schedule passphrase' } })
    fireEvent.change(within(schedule).getByLabelText('Repeat it'), { target: { value: 'schedule passphrase' } })
    fireEvent.click(within(schedule).getByRole('button', { name: 'Save the passphrase' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('system', 'setBackupSchedule', { passphrase: 'schedule passphrase' }))

    fireEvent.click(screen.getByRole('button', { name: 'Delete backup gatehouse-SS1-20260228T090000Z.ghbackup' }))
    const dialog = await screen.findByRole('dialog', { name: 'Delete backup gatehouse-SS1-20260228T090000Z.ghbackup?' })
    expect(within(dialog).getByText(/can no longer be restored from it/)).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete' }))
    await waitFor(() => expect(call).toHaveBeenCalledWith('system', 'deleteBackup', { name: 'gatehouse-SS1-20260228T090000Z.ghbackup' }))
  })

  it('tells other roles that backups are a system administrator\'s, without asking the server', () => {
    signIn(['observer'])
    const call = client({})
    page(<BackupCard />)
    expect(screen.getByText('Only a system administrator can make, download or restore backups.')).toBeTruthy()
    expect(call).not.toHaveBeenCalled()
  })
})

describe('restoring on the first-run page', () => {
  it('uploads the file in pieces, restores it, and words a wrong passphrase in Spanish, keeping the upload', async () => {
    await setLanguage('es')
    let restores = 0
    const call = client({
      'system.uploadBackup': (input: unknown) => ({ upload: 'u'.repeat(32), size: (input as { offset: number }).offset + atob((input as { data: string }).data).length }),
      'system.restore': () => {
        restores++
        if (restores === 1) throw new AdminError('backup_invalid', 'The passphrase is not the one this backup was made with', 'passphrase-incorrect')
        return { restarting: false, backup: { createdAt: '2026-03-01T10:00:00.000Z', serverId: 'LAB/GOV/1234/SS1', gatehouseVersion: '0.1.0', files: 14 } }
      },
    })
    page(<RestoreFromBackup />)
    const file = new File([new Uint8Array(700 * 1024)], 'gatehouse-SS1.ghbackup')
    const input = document.querySelector('input[type="file"]') as HTMLInputElement
    fireEvent.change(input, { target: { files: [file] } })
    fireEvent.change(screen.getByLabelText('Frase de contraseña de la copia'), { target: { value: 'wrong one' } })
    fireEvent.click(screen.getByRole('button', { name: 'Restaurar' }))
    expect(await screen.findByText('La frase de contraseña no es con la que se hizo esta copia. No se cambió nada.')).toBeTruthy()
    const uploads = call.mock.calls.filter((c) => c[1] === 'uploadBackup')
    expect(uploads.map((c) => (c[2] as { offset: number }).offset)).toEqual([0, 512 * 1024])
    expect((uploads[1]?.[2] as { upload: string }).upload).toBe('u'.repeat(32))

    fireEvent.change(screen.getByLabelText('Frase de contraseña de la copia'), { target: { value: 'the right one' } })
    fireEvent.click(screen.getByRole('button', { name: 'Restaurar' }))
    expect(await screen.findByText(/Se restauró la copia de LAB\/GOV\/1234\/SS1/)).toBeTruthy()
    expect(screen.getByText(/Reinicie el servidor para terminar/)).toBeTruthy()
    expect(call.mock.calls.filter((c) => c[1] === 'uploadBackup')).toHaveLength(2)
    expect(call).toHaveBeenLastCalledWith('system', 'restore', { upload: 'u'.repeat(32), passphrase: 'the right one' })
  })
})

describe('the audit log chain', () => {
  const verdict = (problem: AuditChainVerdict['problem']): AuditChainVerdict => ({
    ok: problem === null, entries: problem === null ? 41 : 6, anchor: { lastPrunedId: 120, hash: 'c'.repeat(64), prunedAt: '2026-01-01T00:00:00.000Z', entriesPruned: 120 },
    head: { id: 161, hash: 'd'.repeat(64) }, problem, checkedAt: '2026-03-01T12:00:00.000Z',
  })

  it('says in words that the log is intact, with where it starts after pruning', async () => {
    client({ 'audit.search': [], 'audit.verify': verdict(null) })
    page(<AuditLogPage />)
    fireEvent.click(screen.getByRole('button', { name: 'Verify the chain' }))
    expect(await screen.findByText('The audit log is intact')).toBeTruthy()
    expect(screen.getByText(/^41 entries verified, up to entry #161\./)).toBeTruthy()
    expect(screen.getByText(/Entries up to #120 were deleted for retention/)).toBeTruthy()
  })

  it('names the tampered entry and what to do, in Brazilian Portuguese', async () => {
    await setLanguage('pt-BR')
    client({ 'audit.search': [], 'audit.verify': verdict({ kind: 'missing', id: 127 }) })
    page(<AuditLogPage />)
    fireEvent.click(screen.getByRole('button', { name: 'Verificar a cadeia' }))
    const alert = await screen.findByRole('alert')
    expect(within(alert).getByText('O log de auditoria foi adulterado')).toBeTruthy()
    expect(within(alert).getByText('Entradas anteriores à nº 127 foram excluídas. 6 entradas anteriores a ela são verificadas.')).toBeTruthy()
    expect(within(alert).getByText(/compare o log com uma exportação/)).toBeTruthy()
  })
})
