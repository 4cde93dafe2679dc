import { useEffect, useState, type FormEvent } from 'react'
import { Alert, Badge, Button, Card, Code, Group, PasswordInput, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core'
import { BACKUP_PASSPHRASE_MIN, type BackupScheduleDto } from '@shared/admin-api/admin-api'
import { formatDateTime, formatNumber, useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError } from '../../lib/field-error'
import { useSessionStore } from '../login/session-store'
import { passphraseProblem, useBackupStore } from './backup-store'
import { ConfigurationEdit, EditButton } from '../../lib/read-only'

/** The command line's restore (a command, the same in every language). */
const RESTORE_COMMAND = 'gatehouse restore --data-dir NEW-DIR --from FILE.ghbackup --passphrase-stdin'

/** A size in the reader's language: kB below a megabyte, MB below a gigabyte, GB above. */
export function formatBytes(bytes: number): string {
  const [value, unit] = bytes < 1_000_000 ? [bytes / 1000, 'kilobyte'] : bytes < 1_000_000_000 ? [bytes / 1e6, 'megabyte'] : [bytes / 1e9, 'gigabyte']
  return formatNumber(value, { style: 'unit', unit, maximumFractionDigits: 1 })
}

/**
 * Backup and restore (Settings): make an encrypted backup now, the scheduled backups' passphrase and state, and the
 * backup files on this server to download or delete. Restoring happens on a fresh server (first-run page) or with
 * `gatehouse restore`.
 */
export function BackupCard() {
  const t = useT('backup')
  const roles = useSessionStore((s) => s.session?.roles ?? [])
  const allowed = roles.includes('system-administrator')
  const { data, error, load, clear } = useBackupStore()
  useEffect(() => {
    if (allowed) void load()
  }, [allowed, load])
  return (
    <Card withBorder data-testid="backup-card">
      <Stack gap="md">
        <div>
          <Title order={3}>{t('card.title')}</Title>
          <Text c="dimmed" size="sm">{t('card.intro')}</Text>
        </div>
        {!allowed ? <Text size="sm" c="dimmed">{t('card.onlyAdmins')}</Text> : (
          <>
            {error ? <ErrorNotice error={error} onClose={clear} /> : null}
            <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
              <ConfigurationEdit>
                <CreateBackup />
                {data !== null ? <Schedule schedule={data.schedule} /> : null}
              </ConfigurationEdit>
            </SimpleGrid>
            <BackupList />
            <div>
              <Text size="sm" fw={600}>{t('restoreHint.title')}</Text>
              <Text size="sm" c="dimmed">{t('restoreHint.text')}</Text>
              <Code block mt={4} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{RESTORE_COMMAND}</Code>
            </div>
          </>
        )}
      </Stack>
    </Card>
  )
}

function CreateBackup() {
  const t = useT('backup')
  const { create, busy, created, error } = useBackupStore()
  const [passphrase, setPassphrase] = useState('')
  const [repeat, setRepeat] = useState('')
  const [touched, setTouched] = useState(false)
  const problem = passphraseProblem(passphrase, repeat)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (problem === null) {
      void create(passphrase).then((ok) => {
        if (ok) {
          setPassphrase('')
          setRepeat('')
          setTouched(false)
        }
      })
    }
  }
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('create.title')}>
      <Text fw={600}>{t('create.title')}</Text>
      <PasswordInput
        label={t('create.passphrase')} description={t('create.passphraseHint', { min: BACKUP_PASSPHRASE_MIN })} autoComplete="new-password" value={passphrase}
        onChange={(e) => setPassphrase(e.currentTarget.value)} error={(touched && passphrase.length < BACKUP_PASSPHRASE_MIN ? problem : null) ?? fieldError(error, 'passphrase')}
      />
      <PasswordInput
        label={t('create.repeat')} autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)}
        error={touched && passphrase.length >= BACKUP_PASSPHRASE_MIN ? problem : null}
      />
      <Group><EditButton type="submit" loading={busy}>{t('create.submit')}</EditButton></Group>
      {created !== null ? (
        <Alert color="green" role="status">{t('create.done', { name: created.name, files: created.files, size: formatBytes(created.size) })}</Alert>
      ) : null}
    </Stack>
  )
}

function Schedule({ schedule }: { schedule: BackupScheduleDto }) {
  const t = useT('backup')
  const { setSchedule, busy } = useBackupStore()
  const [editing, setEditing] = useState(false)
  const [passphrase, setPassphrase] = useState('')
  const [repeat, setRepeat] = useState('')
  const [touched, setTouched] = useState(false)
  const [notice, setNotice] = useState<string | null>(null)
  const problem = passphraseProblem(passphrase, repeat)
  const showForm = editing || !schedule.passphraseSet
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (problem !== null) return
    void setSchedule(passphrase).then((ok) => {
      if (!ok) return
      setPassphrase('')
      setRepeat('')
      setTouched(false)
      setEditing(false)
      setNotice(t('schedule.saved'))
    })
  }
  return (
    <Stack gap="xs" data-testid="backup-schedule">
      <Text fw={600}>{t('schedule.title')}</Text>
      <Text size="sm">
        {schedule.intervalHours > 0 ? t('schedule.every', { count: schedule.intervalHours, keep: schedule.keepScheduled }) : t('schedule.off')}{' '}
        <Text span size="sm" c="dimmed">{t('schedule.parameters')}</Text>
      </Text>
      <Text size="sm" c={schedule.passphraseSet ? undefined : 'orange'}>{schedule.passphraseSet ? t('schedule.passphraseSet') : t('schedule.noPassphrase')}</Text>
      {schedule.lastScheduledAt !== null ? <Text size="sm">{t('schedule.last', { time: formatDateTime(schedule.lastScheduledAt) })}</Text> : null}
      {schedule.nextAt !== null ? <Text size="sm">{t('schedule.next', { time: formatDateTime(schedule.nextAt) })}</Text> : null}
      {schedule.lastError !== null ? <Alert color="red">{t('schedule.failed', { reason: schedule.lastError })}</Alert> : null}
      {notice !== null ? <Alert color="green" role="status" withCloseButton onClose={() => setNotice(null)}>{notice}</Alert> : null}
      {showForm ? (
        <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('schedule.passphrase')}>
          <PasswordInput label={t('schedule.passphrase')} autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.currentTarget.value)}
            error={touched && passphrase.length < BACKUP_PASSPHRASE_MIN ? problem : null} />
          <PasswordInput label={t('schedule.repeat')} autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)}
            error={touched && passphrase.length >= BACKUP_PASSPHRASE_MIN ? problem : null} />
          <Group><Button type="submit" variant="light" loading={busy}>{t('schedule.save')}</Button></Group>
        </Stack>
      ) : (
        <Group gap="xs">
          <EditButton variant="default" size="xs" onClick={() => setEditing(true)}>{t('schedule.change')}</EditButton>
          <ConfirmAction
            label={t('schedule.stop')} title={t('schedule.stopTitle')} confirmLabel={t('schedule.stop')}
            consequences={<Consequences items={[t('schedule.stopConsequence')]} />}
            onConfirm={async () => {
              if (await setSchedule(null)) setNotice(t('schedule.stopped'))
            }}
          />
        </Group>
      )}
    </Stack>
  )
}

function BackupList() {
  const t = useT('backup')
  const { data, download, save, remove } = useBackupStore()
  const [notice, setNotice] = useState<string | null>(null)
  if (data === null) return null
  return (
    <Stack gap="xs">
      <Text fw={600}>{t('list.title')}</Text>
      <Text size="xs" c="dimmed">{t('list.where')} <Code>{data.directory}</Code></Text>
      {notice !== null ? <Alert color="green" role="status" withCloseButton onClose={() => setNotice(null)}>{notice}</Alert> : null}
      {download !== null ? (
        <div>
          <Text size="xs">{t('list.downloading', { percent: Math.round(download.progress * 100) })}</Text>
          <Progress value={download.progress * 100} size="sm" aria-label={t('list.downloadLabel', { name: download.name })} />
        </div>
      ) : null}
      <Table.ScrollContainer minWidth={640}>
        <Table striped aria-label={t('list.label')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('list.file')}</Table.Th><Table.Th>{t('list.made')}</Table.Th><Table.Th>{t('list.size')}</Table.Th>
              <Table.Th>{t('list.kind')}</Table.Th><Table.Th>{t('list.actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.backups.length === 0 ? (
              <Table.Tr><Table.Td colSpan={5}><Text size="sm" c="dimmed" ta="center" py="sm">{t('list.empty')}</Text></Table.Td></Table.Tr>
            ) : data.backups.map((b) => (
              <Table.Tr key={b.name}>
                <Table.Td style={{ overflowWrap: 'anywhere', minWidth: 180 }}><Text size="sm" ff="monospace">{b.name}</Text></Table.Td>
                <Table.Td style={{ whiteSpace: 'nowrap' }}><Text size="sm">{formatDateTime(b.createdAt)}</Text></Table.Td>
                <Table.Td style={{ whiteSpace: 'nowrap' }}><Text size="sm">{formatBytes(b.size)}</Text></Table.Td>
                <Table.Td>
                  <Badge variant="light" color={b.kind === 'scheduled' ? 'blue' : 'gray'} tt="none" styles={{ root: { flexShrink: 0, maxWidth: 'none' }, label: { overflow: 'visible' } }}>
                    {t(`list.${b.kind}`)}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="nowrap">
                    <Button size="xs" variant="light" disabled={download !== null} onClick={() => void save(b.name)} aria-label={t('list.downloadLabel', { name: b.name })}>{t('list.download')}</Button>
                    <ConfirmAction
                      label={t('list.delete')} ariaLabel={t('list.deleteLabel', { name: b.name })} title={t('list.deleteTitle', { name: b.name })} confirmLabel={t('list.delete')}
                      consequences={<Consequences items={[t('list.deleteConsequence')]} />}
                      onConfirm={async () => {
                        await remove(b.name)
                        setNotice(t('list.deleted', { name: b.name }))
                      }}
                    />
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  )
}
