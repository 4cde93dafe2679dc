import { useEffect, type FormEvent } from 'react'
import { Badge, Button, Card, Code, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useAuditLogStore } from './audit-log-store'
import { formatTime } from '../../lib/format-time'

/** Every administrative action: who, what, when, outcome — searchable by time, actor and event. Times are evidence (UTC). */
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
      <Card withBorder radius="md" component="form" onSubmit={onSubmit} aria-label={t('search.label')}>
        <Group align="flex-end" wrap="wrap">
          <TextInput type="datetime-local" label={t('search.from')} value={filter.from} onChange={(e) => setFilter({ from: e.currentTarget.value })} />
          <TextInput type="datetime-local" label={t('search.to')} value={filter.to} onChange={(e) => setFilter({ to: e.currentTarget.value })} />
          <TextInput label={t('search.actor')} placeholder={t('search.actorPlaceholder')} value={filter.actor} onChange={(e) => setFilter({ actor: e.currentTarget.value })} />
          <TextInput label={t('search.event')} placeholder={t('search.eventPlaceholder')} value={filter.event} onChange={(e) => setFilter({ event: e.currentTarget.value })} />
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
                    <Table.Td><Code>{e.event}</Code></Table.Td>
                    <Table.Td>
                      <Badge color={e.outcome === 'success' ? 'green' : 'red'} variant="light" styles={{ root: { flexShrink: 0 }, label: { overflow: 'visible' } }}>
                        {t(`outcomes.${e.outcome}`)}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                        {[e.errorCode, Object.keys(e.data).length > 0 ? JSON.stringify(e.data) : null].filter(Boolean).join(' · ')}
                      </Text>
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
