import { useEffect, type FormEvent } from 'react'
import { Badge, Button, Card, Code, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useAuditLogStore } from './audit-log-store'
import { formatTime } from '../../lib/format-time'

/** Every administrative action: who, what, when, outcome — searchable by time, actor and event. */
export function AuditLogPage() {
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
        <Title order={2}>Audit log</Title>
        <Text c="dimmed" size="sm">Every change made through the admin interface, with who did it and whether it worked. Secrets are never recorded.</Text>
      </div>
      <Card withBorder radius="md" component="form" onSubmit={onSubmit} aria-label="Search the audit log">
        <Group align="flex-end" wrap="wrap">
          <TextInput type="datetime-local" label="From" value={filter.from} onChange={(e) => setFilter({ from: e.currentTarget.value })} />
          <TextInput type="datetime-local" label="To" value={filter.to} onChange={(e) => setFilter({ to: e.currentTarget.value })} />
          <TextInput label="Actor" placeholder="user name" value={filter.actor} onChange={(e) => setFilter({ actor: e.currentTarget.value })} />
          <TextInput label="Event" placeholder="e.g. users. or login" value={filter.event} onChange={(e) => setFilter({ event: e.currentTarget.value })} />
          <Select
            label="Outcome"
            data={[{ value: '', label: 'Any' }, { value: 'success', label: 'Success' }, { value: 'failure', label: 'Failure' }]}
            value={filter.outcome}
            onChange={(v) => setFilter({ outcome: (v ?? '') as '' | 'success' | 'failure' })}
            allowDeselect={false}
            w={130}
          />
          <Button type="submit" loading={loading}>Search</Button>
        </Group>
      </Card>
      {error ? <ErrorNotice error={error} /> : null}
      <Card withBorder radius="md" padding={0}>
        <Table striped highlightOnHover aria-label="Audit log entries">
          <Table.Thead>
            <Table.Tr><Table.Th>When</Table.Th><Table.Th>Who</Table.Th><Table.Th>What</Table.Th><Table.Th>Outcome</Table.Th><Table.Th>Details</Table.Th></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {entries.length === 0 ? (
              <Table.Tr><Table.Td colSpan={5}><Text size="sm" c="dimmed" ta="center" py="md">No entries match.</Text></Table.Td></Table.Tr>
            ) : (
              entries.map((e) => (
                <Table.Tr key={e.id}>
                  <Table.Td><Text size="sm">{formatTime(e.at)}</Text></Table.Td>
                  <Table.Td>{e.actor}</Table.Td>
                  <Table.Td><Code>{e.event}</Code></Table.Td>
                  <Table.Td><Badge color={e.outcome === 'success' ? 'green' : 'red'} variant="light">{e.outcome}</Badge></Table.Td>
                  <Table.Td><Text size="xs" c="dimmed">{[e.errorCode, Object.keys(e.data).length > 0 ? JSON.stringify(e.data) : null].filter(Boolean).join(' · ')}</Text></Table.Td>
                </Table.Tr>
              ))
            )}
          </Table.Tbody>
        </Table>
      </Card>
    </Stack>
  )
}
