import { useEffect } from 'react'
import { Badge, Button, Card, Group, Loader, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { useRouterStore } from '../../app/router-store'
import { useDiagnosticsStore } from '../diagnostics/diagnostics-store'
import { TrafficChart } from '../diagnostics/TrafficChart'
import { ocspLight, statusLights, useDashboardStore, type Light } from './dashboard-store'

const LIGHT_WORDS: Record<Light, string> = { green: 'OK', yellow: 'Attention', red: 'Problem', gray: 'Unknown' }
const REFRESH_MS = 10_000

/** System status at a glance: status lights with explanations, listeners and databases. */
export function DashboardPage() {
  const { status, error, loading, refresh, updatedAt } = useDashboardStore()
  const diagnostics = useDiagnosticsStore()
  const runDiagnostics = diagnostics.run
  const navigate = useRouterStore((r) => r.navigate)
  useEffect(() => {
    const all = (): void => {
      void refresh()
      void runDiagnostics()
    }
    all()
    const timer = setInterval(all, REFRESH_MS)
    return () => clearInterval(timer)
  }, [refresh, runDiagnostics])

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="center">
        <div>
          <Title order={2}>Dashboard</Title>
          <Text c="dimmed" size="sm">
            {status ? `Gatehouse ${status.version} · data in ${status.dataDir}` : 'Loading the server status…'}
          </Text>
        </div>
        <Group gap="sm">
          {loading || diagnostics.loading ? <Loader size="xs" aria-label="Refreshing" /> : null}
          {updatedAt ? <Text size="xs" c="dimmed">Updated {updatedAt.toLocaleTimeString()}</Text> : null}
          {/* No `loading` prop: its label animation slid the text down during the timed refreshes. */}
          <Button variant="default" onClick={() => { void refresh(); void runDiagnostics() }} aria-busy={loading}>
            Refresh
          </Button>
        </Group>
      </Group>
      {error ? <ErrorNotice error={error} /> : null}
      {status !== null && !status.initialized ? (
        <Card withBorder radius="md" padding="lg" bg="indigo.0">
          <Group justify="space-between">
            <div>
              <Text fw={600}>This server has not joined an X-Road instance yet</Text>
              <Text size="sm" c="dimmed">The first-run wizard walks you through the configuration anchor, the owner and the token PIN.</Text>
            </div>
            <Button onClick={() => navigate('setup')}>Start the first-run wizard</Button>
          </Group>
        </Card>
      ) : null}
      {status === null ? (
        <SimpleGrid cols={{ base: 1, md: 3 }}>{[0, 1, 2].map((i) => <Skeleton key={i} h={120} radius="md" />)}</SimpleGrid>
      ) : (
        <>
          <SimpleGrid cols={{ base: 1, md: 3 }} data-testid="status-lights">
            {statusLights(status).map((item) => (
              <Card key={item.key} withBorder radius="md" padding="lg" aria-label={`${item.label}: ${LIGHT_WORDS[item.light]}`}>
                <Group justify="space-between" mb="xs">
                  <Text fw={600}>{item.label}</Text>
                  <Badge color={item.light} variant="light" size="lg" leftSection={<span aria-hidden style={{ display: 'inline-block', width: 8, height: 8, borderRadius: 4, background: `var(--mantine-color-${item.light}-6)` }} />}>
                    {item.key === 'service' ? status.state : LIGHT_WORDS[item.light]}
                  </Badge>
                </Group>
                <Text size="sm" c="dimmed">
                  {item.explanation}
                </Text>
              </Card>
            ))}
          </SimpleGrid>
          {diagnostics.result ? (
            <SimpleGrid cols={{ base: 1, md: 2, xl: 4 }} data-testid="domain-lights">
              {diagnostics.result.checks.map((c) => (
                <Card key={c.key} withBorder radius="md" padding="lg" aria-label={`${c.label}: ${c.light}`}>
                  <Group justify="space-between" mb="xs" wrap="nowrap"><Text fw={600}>{c.label}</Text><StatusLight light={c.light} /></Group>
                  <Text size="sm" c="dimmed">{c.explanation}</Text>
                </Card>
              ))}
            </SimpleGrid>
          ) : null}
          {diagnostics.result && diagnostics.result.certificates.length > 0 ? (
            <Card withBorder radius="md" padding="lg">
              <Title order={4} mb="sm">Certificates: expiry and OCSP</Title>
              <Group gap="xl">
                {diagnostics.result.certificates.filter((c) => c.state === 'active').map((c) => (
                  <Group key={c.id} gap={6} aria-label={`${c.usage === 'auth' ? 'Authentication' : 'Signing'} certificate ${c.subject}`}>
                    <Text size="sm" fw={600}>{c.usage === 'auth' ? 'Authentication' : 'Signing'}</Text>
                    <StatusLight light={c.light} text={`${c.daysLeft} days left`} />
                    <StatusLight light={ocspLight(c.ocsp).light} text={ocspLight(c.ocsp).text} />
                  </Group>
                ))}
              </Group>
            </Card>
          ) : null}
          <Card withBorder radius="md" padding="lg">
            <Title order={4} mb="sm">Messages in the last hour</Title>
            <TrafficChart result={diagnostics.result} />
          </Card>
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            <Card withBorder radius="md" padding="lg">
              <Title order={4} mb="sm">Listeners</Title>
              {status.listeners.length === 0 ? (
                <Text size="sm" c="dimmed">No network listeners are open.</Text>
              ) : (
                <Table aria-label="Listeners">
                  <Table.Thead>
                    <Table.Tr><Table.Th>Listener</Table.Th><Table.Th>Address</Table.Th></Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {status.listeners.map((l) => (
                      <Table.Tr key={l.name}><Table.Td>{l.name}</Table.Td><Table.Td><Text ff="monospace" size="sm">{l.url}</Text></Table.Td></Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Card>
            <Card withBorder radius="md" padding="lg">
              <Title order={4} mb="sm">Databases</Title>
              <Table aria-label="Databases">
                <Table.Thead>
                  <Table.Tr><Table.Th>Database</Table.Th><Table.Th>Journal</Table.Th><Table.Th>Synchronous</Table.Th><Table.Th>Schema</Table.Th></Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {status.databases.map((d) => (
                    <Table.Tr key={d.name}>
                      <Table.Td>{d.name}</Table.Td>
                      <Table.Td>{d.journalMode}</Table.Td>
                      <Table.Td>{d.synchronous}</Table.Td>
                      <Table.Td><Text size="xs" c="dimmed">{d.schema.map((s) => `${s.component} v${s.version}`).join(', ') || 'empty'}</Text></Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Card>
          </SimpleGrid>
        </>
      )}
    </Stack>
  )
}
