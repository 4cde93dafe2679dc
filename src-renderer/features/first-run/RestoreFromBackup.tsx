import { useState, type FormEvent } from 'react'
import { Alert, Button, Card, FileButton, Group, Loader, PasswordInput, Progress, Stack, Text, Title } from '@mantine/core'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { formatBytes } from '../settings/BackupCard'
import { useRestoreStore } from './restore-store'

/**
 * First run, third way: stand this fresh server up from an encrypted backup. The server checks everything aside and
 * changes nothing unless the whole backup verifies; then it restarts with the restored data.
 */
export function RestoreFromBackup() {
  const t = useT('backup')
  const { phase, progress, error, result, restore } = useRestoreStore()
  const [file, setFile] = useState<File | null>(null)
  const [passphrase, setPassphrase] = useState('')
  const busy = phase === 'uploading' || phase === 'checking'
  const percent = Math.round(progress * 100)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (file !== null && passphrase !== '') void restore(file, passphrase)
  }
  if (result !== null) {
    const { backup } = result
    const values = { server: backup.serverId ?? '', date: formatDateTime(backup.createdAt), files: backup.files }
    return (
      <Stack gap="lg">
        <Title order={2}>{t('restore.title')}</Title>
        <Card withBorder data-testid="restore-done">
          <Stack gap="sm">
            <Alert color="green" role="status">{backup.serverId !== null ? t('restore.done', values) : t('restore.doneNoServer', values)}</Alert>
            <Text size="sm">{result.restarting ? t('restore.restarting') : t('restore.restartYourself')}</Text>
            {phase === 'restarting' ? <Group gap="xs"><Loader size="xs" /><Text size="sm" c="dimmed">{t('restore.waiting')}</Text></Group> : null}
          </Stack>
        </Card>
      </Stack>
    )
  }
  return (
    <Stack gap="lg">
      <Title order={2}>{t('restore.title')}</Title>
      <Card withBorder>
        <Stack component="form" gap="sm" onSubmit={submit} aria-label={t('restore.title')}>
          <Text size="sm">{t('restore.intro')}</Text>
          {error ? <ErrorNotice error={error} /> : null}
          <Group>
            <FileButton accept=".ghbackup,application/octet-stream" onChange={setFile} disabled={busy}>
              {(props) => <Button variant="default" {...props}>{t('restore.choose')}</Button>}
            </FileButton>
            {file !== null ? <Text size="sm" ff="monospace" style={{ overflowWrap: 'anywhere' }}>{t('restore.chosen', { name: file.name, size: formatBytes(file.size) })}</Text> : null}
          </Group>
          <PasswordInput label={t('restore.passphrase')} autoComplete="off" value={passphrase} onChange={(e) => setPassphrase(e.currentTarget.value)} disabled={busy} />
          <Text size="xs" c="dimmed">{t('restore.safe')}</Text>
          {phase === 'uploading' ? (
            <div>
              <Text size="sm">{t('restore.uploading', { percent })}</Text>
              <Progress value={percent} size="sm" aria-label={t('restore.uploading', { percent })} />
            </div>
          ) : null}
          {phase === 'checking' ? <Group gap="xs"><Loader size="xs" /><Text size="sm">{t('restore.checking')}</Text></Group> : null}
          <Group justify="flex-end">
            <Button type="submit" loading={busy} disabled={file === null || passphrase === ''}>{t('restore.submit')}</Button>
          </Group>
        </Stack>
      </Card>
    </Stack>
  )
}
