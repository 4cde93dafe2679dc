import { useState } from 'react'
import { Button, Card, Group, List, Loader, Modal, Stack, Text, Textarea } from '@mantine/core'
import type { EvidenceContinuity } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { formatTime } from '../../lib/format-time'
import { useSessionStore } from '../login/session-store'
import { mayReadBodies, useMessageLogStore } from './message-log-store'
import { evidenceProblemText, evidenceText } from './message-log-texts'

/**
 * Evidence continuity: whether every acknowledged record is still there and unchanged, the open problems (each with
 * its chain positions), the acknowledged ones with who acknowledged them and why, a check of every record on demand, and the
 * acknowledgement with a reason that lets refused traffic flow again. Checking and acknowledging are for the security
 * officer and the system administrator (the server enforces it).
 */
export function EvidenceCard() {
  const t = useT('messageLog', 'common')
  const { evidence, evidenceError, evidenceChecking, checkEvidence } = useMessageLogStore()
  const roles = useSessionStore((s) => s.session?.roles ?? [])
  const permitted = mayReadBodies(roles)
  return (
    <Card withBorder radius="md" padding="lg" aria-label={t('evidence.title')} data-testid="evidence-card">
      <Group justify="space-between" mb="xs" wrap="nowrap">
        <Text fw={600}>{t('evidence.title')}</Text>
        {evidence ? <StatusLight light={evidence.light} /> : <Loader size="xs" aria-label={t('evidence.loading')} />}
      </Group>
      {evidenceError ? <ErrorNotice error={evidenceError} /> : null}
      {evidence ? (
        <Stack gap="xs">
          <Text size="sm" c={evidence.state === 'problem' ? undefined : 'dimmed'} fw={evidence.state === 'problem' ? 600 : undefined} data-testid="evidence-explanation">
            {evidenceText(t, evidence)}
          </Text>
          <Problems evidence={evidence} />
          <Text size="xs" c="dimmed">
            {evidence.checking ? t('evidence.fullRunning') : evidence.lastFullCheckAt ? t('evidence.lastFull', { time: formatTime(evidence.lastFullCheckAt) }) : t('evidence.noFullYet')}
            {evidence.ackFile === 'not-used' ? ` ${t('evidence.ackFileMissing')}` : ''}
          </Text>
          <Group gap="sm" wrap="wrap">
            <Button size="xs" variant="default" loading={evidenceChecking} disabled={!permitted} onClick={() => void checkEvidence()}>{t('evidence.checkNow')}</Button>
            {evidence.state === 'problem' ? <AcknowledgeButton evidence={evidence} disabled={!permitted} /> : null}
          </Group>
          <Incidents evidence={evidence} />
        </Stack>
      ) : <Text size="sm" c="dimmed">{t('evidence.intro')}</Text>}
    </Card>
  )
}

/** The problems not yet acknowledged (the acknowledged ones are in the incidents, with who and why). */
function Problems({ evidence }: { evidence: EvidenceContinuity }) {
  const t = useT('messageLog')
  const open = evidence.problems.filter((p) => !p.acknowledged)
  if (open.length === 0) return null
  return (
    <>
      <List size="sm" spacing={4} data-testid="evidence-problems">
        {open.map((p) => (
          <List.Item key={`${p.kind}:${p.firstSeq ?? ''}:${p.lastSeq ?? ''}`}>
            <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{evidenceProblemText(t, p)}</Text>
          </List.Item>
        ))}
      </List>
      {evidence.problemsTruncated ? <Text size="xs" c="dimmed">{t('evidence.more')}</Text> : null}
    </>
  )
}

function Incidents({ evidence }: { evidence: EvidenceContinuity }) {
  const t = useT('messageLog')
  const acknowledged = evidence.incidents.filter((i) => i.acknowledgedAt !== null)
  if (acknowledged.length === 0) return null
  return (
    <Stack gap={4} mt="xs" data-testid="evidence-incidents">
      <Text size="sm" fw={600}>{t('evidence.history')}</Text>
      {acknowledged.map((i) => (
        <Text key={`${i.kind}:${i.firstSeq ?? ''}:${i.lastSeq ?? ''}:${i.detectedAt}`} size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
          {evidenceProblemText(t, { ...i, acknowledged: true })}{' '}
          {t('evidence.incidentAcknowledged', { detected: formatTime(i.detectedAt), by: i.acknowledgedBy ?? '', time: formatTime(i.acknowledgedAt ?? ''), reason: i.reason ?? '' })}
        </Text>
      ))}
    </Stack>
  )
}

/** The acknowledgement names the problems and needs a reason; the server's refusal (role, too short) is shown in the dialog. */
function AcknowledgeButton({ evidence, disabled }: { evidence: EvidenceContinuity; disabled: boolean }) {
  const t = useT('messageLog', 'common')
  const acknowledgeGap = useMessageLogStore((s) => s.acknowledgeGap)
  const [opened, setOpened] = useState(false)
  const [reason, setReason] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const close = (): void => {
    setOpened(false)
    setReason('')
    setError(null)
  }
  const submit = async (): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      await acknowledgeGap(reason)
      close()
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      <Button size="xs" color="red" disabled={disabled} onClick={() => setOpened(true)}>{t('evidence.acknowledge')}</Button>
      <Modal opened={opened} onClose={close} title={t('evidence.acknowledgeTitle')} centered size="lg">
        <Stack gap="sm">
          <Text size="sm">{t('evidence.acknowledgeText')}</Text>
          <Problems evidence={evidence} />
          <Textarea
            label={t('evidence.reason')} description={t('evidence.reasonHint')} rows={4} value={reason}
            onChange={(e) => setReason(e.currentTarget.value)} data-autofocus
          />
          {error !== null ? <ErrorNotice error={error} /> : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>{t('common:actions.cancel')}</Button>
            <Button color="red" loading={busy} disabled={reason.trim().length < 10} onClick={() => void submit()}>{t('evidence.confirm')}</Button>
          </Group>
        </Stack>
      </Modal>
    </>
  )
}
