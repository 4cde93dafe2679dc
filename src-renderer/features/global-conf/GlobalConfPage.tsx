import { useEffect } from 'react'
import { Button, Card, Code, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { useGlobalConfStore } from './global-conf-store'

const when = (iso: string | null): string => (iso === null ? '–' : new Date(iso).toLocaleString())

/** Global configuration status: freshness, expiry, last error, and the instance's members and servers. */
export function GlobalConfPage() {
  const { status, members, servers, loading, error, load, refresh, clearError } = useGlobalConfStore()
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Global configuration</Title>
          <Text c="dimmed" size="sm">The instance&apos;s shared list of members, servers and trusted authorities, downloaded and verified every minute.</Text>
        </div>
        <Button variant="default" onClick={() => void refresh()} loading={loading} disabled={!status?.anchorImported}>Download now</Button>
      </Group>
      {error ? <ErrorNotice error={error} onClose={clearError} /> : null}
      {status ? (
        <Card withBorder data-testid="global-conf-status">
          <Group justify="space-between" mb="xs"><Text fw={600}>Status</Text><StatusLight light={status.light} /></Group>
          <Text size="sm" mb="sm">{status.explanation}</Text>
          <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }}>
            <div><Text size="xs" c="dimmed">Instance</Text><Text>{status.instance ?? '–'}</Text></div>
            <div><Text size="xs" c="dimmed">Version</Text><Text>{status.version ?? '–'}</Text></div>
            <div><Text size="xs" c="dimmed">Downloaded</Text><Text>{when(status.downloadedAt)}</Text></div>
            <div><Text size="xs" c="dimmed">Expires</Text><Text>{when(status.expiresAt)}</Text></div>
            <div><Text size="xs" c="dimmed">Members</Text><Text>{status.memberCount}</Text></div>
            <div><Text size="xs" c="dimmed">Security servers</Text><Text>{status.serverCount}</Text></div>
            <div><Text size="xs" c="dimmed">Approved CAs</Text><Text>{status.approvedCaCount}</Text></div>
            <div><Text size="xs" c="dimmed">Time-stamping authorities</Text><Text>{status.tsaCount}</Text></div>
          </SimpleGrid>
          {status.anchorHash ? <Text size="xs" c="dimmed" mt="sm">Anchor hash <Code>{status.anchorHash}</Code> · source {status.sources.join(', ')}</Text> : null}
          {status.lastError ? <Text size="sm" c="red" mt="xs">Last download error: {status.lastError}</Text> : null}
        </Card>
      ) : null}
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Card withBorder>
          <Title order={4} mb="sm">Members</Title>
          <Table aria-label="Members">
            <Table.Thead><Table.Tr><Table.Th>Member</Table.Th><Table.Th>Name</Table.Th><Table.Th>Subsystems</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>{members.map((m) => <Table.Tr key={m.id}><Table.Td>{m.id.replace(/^MEMBER:/, '')}</Table.Td><Table.Td>{m.name}</Table.Td><Table.Td>{m.subsystems.map((s) => s.split('/').at(-1)).join(', ')}</Table.Td></Table.Tr>)}</Table.Tbody>
          </Table>
        </Card>
        <Card withBorder>
          <Title order={4} mb="sm">Security servers</Title>
          <Table aria-label="Security servers">
            <Table.Thead><Table.Tr><Table.Th>Server</Table.Th><Table.Th>Address</Table.Th><Table.Th>Clients</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>{servers.map((s) => <Table.Tr key={s.id}><Table.Td>{s.id.replace(/^SERVER:/, '')}</Table.Td><Table.Td>{s.address ?? '–'}</Table.Td><Table.Td>{s.clients.length}</Table.Td></Table.Tr>)}</Table.Tbody>
          </Table>
        </Card>
      </SimpleGrid>
    </Stack>
  )
}
