import { useEffect, type FormEvent } from 'react'
import { Alert, Badge, Button, Card, Code, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import type { AuditChainVerdict, AuditLogEntry } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useAuditLogStore } from './audit-log-store'
import { formatTime } from '../../lib/format-time'

/**
 * Every administrative change: who, what, which object, before and after, outcome — searchable by time, actor, event
 * and object; the hash chain verified on demand with the verdict in words; the log exported as JSON lines. Times are
 * evidence (UTC).
 */
export function AuditLogPage() {
  const t = useT('audit')
  const { filter, entries, loading, error, setFilter, search } = useAuditLogStore()
  useEffect(() => {
    void search()
  }, [search])
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    void search()
  }
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>{t('screen.title')}</Title>
        <Text c="dimmed" size="sm">{t('screen.intro')}</Text>
      </div>
      <ChainCard />
      <Card withBorder radius="md" component="form" onSubmit={onSubmit} aria-label={t('search.label')}>
        <Group align="flex-end" wrap="wrap">
          <TextInput type="datetime-local" label={t('search.from')} value={filter.from} onChange={(e) => setFilter({ from: e.currentTarget.value })} />
          <TextInput type="datetime-local" label={t('search.to')} value={filter.to} onChange={(e) => setFilter({ to: e.currentTarget.value })} />
          <TextInput label={t('search.actor')} placeholder={t('search.actorPlaceholder')} value={filter.actor} onChange={(e) => setFilter({ actor: e.currentTarget.value })} />
          <TextInput label={t('search.event')} placeholder={t('search.eventPlaceholder')} value={filter.event} onChange={(e) => setFilter({ event: e.currentTarget.value })} />
          <TextInput label={t('search.object')} placeholder={t('search.objectPlaceholder')} value={filter.object} onChange={(e) => setFilter({ object: e.currentTarget.value })} />
          <Select
            label={t('search.outcome')}
            data={[{ value: '', label: t('search.any') }, { value: 'success', label: t('outcomes.success') }, { value: 'failure', label: t('outcomes.failure') }]}
            value={filter.outcome}
            onChange={(v) => setFilter({ outcome: (v ?? '') as '' | 'success' | 'failure' })}
            allowDeselect={false}
            w={150}
          />
          <Button type="submit" loading={loading}>{t('search.submit')}</Button>
        </Group>
      </Card>
      {error ? <ErrorNotice error={error} /> : null}
      <Card withBorder radius="md" padding={0}>
        <Table.ScrollContainer minWidth={640}>
          <Table striped highlightOnHover aria-label={t('table.label')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('table.when')}</Table.Th><Table.Th>{t('table.who')}</Table.Th><Table.Th>{t('table.what')}</Table.Th>
                <Table.Th>{t('table.outcome')}</Table.Th><Table.Th>{t('table.details')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {entries.length === 0 ? (
                <Table.Tr><Table.Td colSpan={5}><Text size="sm" c="dimmed" ta="center" py="md">{t('table.empty')}</Text></Table.Td></Table.Tr>
              ) : (
                entries.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}><Text size="sm">{formatTime(e.at)}</Text></Table.Td>
                    <Table.Td>{e.actor}</Table.Td>
                    <Table.Td>
                      <Code>{e.event}</Code>
                      {e.object !== null ? <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{e.object}</Text> : null}
                    </Table.Td>
                    <Table.Td>
                      <Badge color={e.outcome === 'success' ? 'green' : 'red'} variant="light" styles={{ root: { flexShrink: 0 }, label: { overflow: 'visible' } }}>
                        {t(`outcomes.${e.outcome}`)}
                      </Badge>
                    </Table.Td>
                    <Table.Td style={{ minWidth: 320, width: '42%' }}>
                      <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{details(e)}</Text>
                    </Table.Td>
                  </Table.Tr>
                ))
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {entries.length > 0 ? <Text size="xs" c="dimmed" px="md" py="xs">{t('table.shown', { count: entries.length })}</Text> : null}
      </Card>
    </Stack>
  )
}

/** The error code, the input (secrets already replaced), then the change as before → after where the entry has both. */
function details(e: AuditLogEntry): string {
  const { before, after, input, ...rest } = e.data
  const json = (value: unknown): string => JSON.stringify(value ?? null)
  const change = before !== undefined && after !== undefined ? `${json(before)} → ${json(after)}` : before !== undefined ? json(before) : after !== undefined ? `→ ${json(after)}` : null
  const other = Object.keys(rest).length > 0 ? JSON.stringify(rest) : null
  return [e.errorCode, input === undefined ? null : json(input), change, other].filter(Boolean).join(' · ')
}

function ChainCard() {
  const t = useT('audit')
  const { verdict, verifying, exporting, exported, verify, exportLog } = useAuditLogStore()
  return (
    <Card withBorder radius="md" data-testid="audit-chain">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Text fw={600}>{t('chain.title')}</Text>
          <Group gap="xs">
            <Button onClick={() => void verify()} loading={verifying}>{t('chain.verify')}</Button>
            <Button variant="default" onClick={() => void exportLog()} loading={exporting}>{t('chain.export')}</Button>
          </Group>
        </Group>
        {verdict !== null ? <Verdict verdict={verdict} /> : null}
        {exported !== null ? <Text size="sm" role="status">{t('chain.exported', { count: exported })}</Text> : null}
      </Stack>
    </Card>
  )
}

function Verdict({ verdict }: { verdict: AuditChainVerdict }) {
  const t = useT('audit')
  const time = formatDateTime(verdict.checkedAt, { dateStyle: 'medium', timeStyle: 'medium' })
  const pruned = verdict.anchor.lastPrunedId > 0
    ? t('chain.pruned', { id: verdict.anchor.lastPrunedId, date: verdict.anchor.prunedAt === null ? '' : formatDateTime(verdict.anchor.prunedAt) })
    : null
  if (verdict.problem === null) {
    return (
      <Alert color="green" title={t('chain.intactTitle')} role="status">
        <Stack gap={4}>
          <Text size="sm">{verdict.head === null ? t('chain.empty', { time }) : t('chain.intact', { count: verdict.entries, head: verdict.head.id, time })}</Text>
          {pruned !== null ? <Text size="sm">{pruned}</Text> : null}
          {verdict.head !== null ? (
            <Text size="xs" c="dimmed">{t('chain.head')} <Code style={{ overflowWrap: 'anywhere' }}>{verdict.head.hash}</Code></Text>
          ) : null}
        </Stack>
      </Alert>
    )
  }
  return (
    <Alert color="red" title={t('chain.brokenTitle')} role="alert">
      <Stack gap={4}>
        <Text size="sm">{t(`chain.${verdict.problem.kind}`, { id: verdict.problem.id })} {t('chain.before', { count: verdict.entries })}</Text>
        {pruned !== null ? <Text size="sm">{pruned}</Text> : null}
        <Text size="sm">{t('chain.whatToDo')}</Text>
      </Stack>
    </Alert>
  )
}
