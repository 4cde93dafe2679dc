import { useState, type FormEvent } from 'react'
import { Button, Card, Code, Group, NumberInput, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError, isFieldError } from '../../lib/field-error'
import { saveFile } from '../../lib/save-file'
import { StatusLight } from '../../lib/StatusLight'
import { useLabAdminStore } from './lab-admin-store'

const BREAK = { wordBreak: 'break-all' } as const

/** The lab's trust services (X-Road CS "Trust services"): addresses, whether they run, and the configuration expiry. */
export function LabTrustServices({ canChange }: { canChange: boolean }) {
  const t = useT('lab', 'common')
  const trust = useLabAdminStore((s) => s.trust)
  if (trust === null) return null
  const { services } = trust
  const url = (value: string | null) => (value === null ? <Text size="sm" c="red">{t('trust.notRunning')}</Text> : <Code style={BREAK}>{value}</Code>)
  return (
    <Stack gap="lg">
      <Card withBorder>
        <Group justify="space-between" mb="xs">
          <Title order={4}>{t('trust.title')}</Title>
          <StatusLight light={services.running ? 'green' : 'red'} text={services.running ? t('trust.running') : t('trust.stopped')} />
        </Group>
        <Text size="sm" mb="sm">{t('trust.intro')}</Text>
        {services.problem !== null ? <Text size="sm" c="red" mb="sm">{t('trust.problem', { problem: services.problem })}</Text> : null}
        <Table.ScrollContainer minWidth={600}>
          <Table aria-label={t('trust.tableLabel')} verticalSpacing="xs">
            <Table.Thead><Table.Tr><Table.Th>{t('trust.service')}</Table.Th><Table.Th>{t('trust.address')}</Table.Th><Table.Th>{t('trust.certificate')}</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              <Table.Tr><Table.Td>{t('trust.ca')}</Table.Td><Table.Td><Text size="sm" c="dimmed">{t('trust.caAddress')}</Text></Table.Td><Table.Td><Text size="sm">{trust.caSubject}</Text></Table.Td></Table.Tr>
              <Table.Tr><Table.Td>{t('trust.ocsp')}</Table.Td><Table.Td>{url(services.ocspUrl)}</Table.Td><Table.Td><Text size="sm">{trust.ocspSubject}</Text></Table.Td></Table.Tr>
              <Table.Tr><Table.Td>{t('trust.tsa')}</Table.Td><Table.Td>{url(services.tsaUrl)}</Table.Td><Table.Td><Text size="sm">{trust.tsaSubject}</Text></Table.Td></Table.Tr>
              <Table.Tr><Table.Td>{t('trust.configuration')}</Table.Td><Table.Td>{url(services.configurationUrl)}</Table.Td><Table.Td><Text size="sm" c="dimmed">{t('trust.configurationCertificate')}</Text></Table.Td></Table.Tr>
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Text size="xs" c="dimmed" mt="xs">{t('trust.freshness', { seconds: trust.ocspFreshnessSeconds, interval: trust.timeStampingIntervalSeconds })}</Text>
      </Card>
      <ExpiryCard key={trust.confExpireSeconds} current={trust.confExpireSeconds} canChange={canChange} />
    </Stack>
  )
}

function ExpiryCard({ current, canChange }: { current: number; canChange: boolean }) {
  const t = useT('lab', 'common')
  const act = useLabAdminStore((s) => s.act)
  const [seconds, setSeconds] = useState<number | string>(current)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    act('setConfExpiry', { seconds: Number(seconds) }).catch(setError).finally(() => setBusy(false))
  }
  return (
    <Card withBorder>
      <Title order={4} mb="sm">{t('trust.settingsTitle')}</Title>
      <Stack component="form" gap="sm" aria-label={t('trust.settingsTitle')} onSubmit={submit}>
        {error !== null && !isFieldError(error, ['seconds']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        <Group align="flex-end" gap="sm">
          <NumberInput
            label={t('trust.expiry')} description={t('trust.expiryDescription')} value={seconds} onChange={setSeconds} allowDecimal={false} min={1}
            readOnly={!canChange} error={fieldError(error, 'seconds')} style={{ flex: 1 }}
          />
          {canChange ? <Button type="submit" loading={busy} disabled={Number(seconds) === current}>{t('trust.saveExpiry')}</Button> : null}
        </Group>
      </Stack>
    </Card>
  )
}

/** The anchor joining servers need, with its hash to read out separately. */
export function LabAnchor() {
  const t = useT('lab', 'common')
  const anchor = useLabAdminStore((s) => s.anchor)
  if (anchor === null) return null
  return (
    <Card withBorder>
      <Title order={4} mb="xs">{t('anchor.title')}</Title>
      <Text size="sm" mb="sm">{t('anchor.intro')}</Text>
      <SimpleGrid cols={{ base: 1, sm: 3 }} mb="sm">
        <div><Text size="xs" c="dimmed">{t('anchor.instance')}</Text><Text size="sm">{anchor.instance}</Text></div>
        <div><Text size="xs" c="dimmed">{t('anchor.downloadUrl')}</Text><Code style={BREAK}>{anchor.downloadUrl}</Code></div>
        <div><Text size="xs" c="dimmed">{t('anchor.generatedAt')}</Text><Text size="sm">{anchor.generatedAt === null ? t('common:never') : formatDateTime(anchor.generatedAt)}</Text></div>
      </SimpleGrid>
      <Text size="xs" c="dimmed">{t('anchor.hash')}</Text>
      <Code block data-testid="lab-page-anchor-hash" style={{ fontSize: 14, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>{anchor.hash}</Code>
      <Group mt="sm"><Button onClick={() => saveFile(anchor.fileName, 'application/xml', anchor.content, 'utf8')}>{t('anchor.download')}</Button></Group>
    </Card>
  )
}
