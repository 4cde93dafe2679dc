import { useEffect } from 'react'
import { Badge, Button, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { useDiagnosticsStore } from './diagnostics-store'
import { TrafficChart } from './TrafficChart'

/** Diagnostics: every check with its light and what to do, certificate countdowns, tokens, and message rates. */
export function DiagnosticsPage() {
  const { result, windowMinutes, loading, error, run } = useDiagnosticsStore()
  useEffect(() => {
    void run()
  }, [run])
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div>
          <Title order={2}>Diagnostics</Title>
          <Text c="dimmed" size="sm">{result ? `Checked ${new Date(result.checkedAt).toLocaleTimeString()}` : 'Running the checks…'}</Text>
        </div>
        <Button variant="default" onClick={() => void run()} loading={loading}>Run again</Button>
      </Group>
      {error ? <ErrorNotice error={error} /> : null}
      <SimpleGrid cols={{ base: 1, md: 2 }} data-testid="diagnostic-checks">
        {result?.checks.map((c) => (
          <Card key={c.key} withBorder aria-label={`${c.label}: ${c.light}`}>
            <Group justify="space-between" mb="xs"><Text fw={600}>{c.label}</Text><StatusLight light={c.light} /></Group>
            <Text size="sm" c="dimmed">{c.explanation}</Text>
          </Card>
        ))}
      </SimpleGrid>
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <Title order={4}>Message rates</Title>
          <SegmentedControl aria-label="Period" value={String(windowMinutes)} onChange={(v) => void run(Number(v))} data={[{ value: '60', label: '1 hour' }, { value: '360', label: '6 hours' }, { value: '1440', label: '24 hours' }]} />
        </Group>
        <TrafficChart result={result} />
      </Card>
      <Card withBorder>
        <Title order={4} mb="sm">Certificates</Title>
        {result && result.certificates.length > 0 ? (
          <Table aria-label="Certificate expiry">
            <Table.Thead><Table.Tr><Table.Th>Certificate</Table.Th><Table.Th>State</Table.Th><Table.Th>OCSP</Table.Th><Table.Th>Days left</Table.Th><Table.Th>Status</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {result.certificates.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td><Text size="sm">{c.subject}</Text></Table.Td>
                  <Table.Td>{c.state}</Table.Td>
                  <Table.Td><Badge variant="light" color={c.ocsp === 'good' ? 'green' : c.ocsp === 'revoked' ? 'red' : 'gray'}>{c.ocsp}</Badge></Table.Td>
                  <Table.Td>{c.daysLeft}</Table.Td>
                  <Table.Td><StatusLight light={c.light} /></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        ) : <Text size="sm" c="dimmed">No certificates yet.</Text>}
      </Card>
    </Stack>
  )
}
