import { useEffect } from 'react'
import { Badge, Button, Card, Group, Loader, SimpleGrid, Skeleton, Stack, Table, Text, Title } from '@mantine/core'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { useRouterStore } from '../../app/router-store'
import { useDiagnosticsStore } from '../diagnostics/diagnostics-store'
import { TrafficChart } from '../diagnostics/TrafficChart'
import { RestartNotice } from '../settings/RestartNotice'
import { ocspLight, statusLights, useDashboardStore, type DashboardText } from './dashboard-store'
import { ReadinessCard } from './ReadinessCard'
import { ClusterNodesCard } from '../cluster/ClusterNodesCard'
import { SharedDatabase } from '../cluster/SharedDatabase'

const REFRESH_MS = 10_000

/** System status at a glance: can messages flow (and what to fix), certificates, traffic, listeners and databases. */
export function DashboardPage() {
  const t = useT('dashboard', 'common')
  const { status, error, loading, refresh, updatedAt } = useDashboardStore()
  const diagnostics = useDiagnosticsStore()
  const runDiagnostics = diagnostics.run
  const navigate = useRouterStore((r) => r.navigate)
  const explain = (text: DashboardText): string =>
    text.key === 'service.running' ? t(text.key, text.params) : text.key === 'service.other' ? t(text.key, { state: t(`states.${text.state}`) }) : t(text.key)
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
          <Title order={2}>{t('title')}</Title>
          <Text c="dimmed" size="sm">
            {status ? t('subtitle', { version: status.version, dataDir: status.dataDir }) : t('loadingStatus')}
          </Text>
        </div>
        <Group gap="sm">
          {loading || diagnostics.loading ? <Loader size="xs" aria-label={t('refreshing')} /> : null}
          {updatedAt ? <Text size="xs" c="dimmed">{t('updatedAt', { time: formatDateTime(updatedAt, { timeStyle: 'medium' }) })}</Text> : null}
          {/* No `loading` prop: its label animation slid the text down during the timed refreshes. */}
          <Button variant="default" onClick={() => { void refresh(); void runDiagnostics() }} aria-busy={loading}>
            {t('common:actions.refresh')}
          </Button>
        </Group>
      </Group>
      {error ? <ErrorNotice error={error} /> : null}
      {status !== null && !status.initialized ? (
        <Card withBorder radius="md" padding="lg" bg="indigo.0">
          <Group justify="space-between">
            <div>
              <Text fw={600}>{t('notInitialized.title')}</Text>
              <Text size="sm" c="dimmed">{t('notInitialized.text')}</Text>
            </div>
            <Button onClick={() => navigate('setup')}>{t('notInitialized.action')}</Button>
          </Group>
        </Card>
      ) : null}
      {status === null ? (
        <SimpleGrid cols={{ base: 1, md: 3 }}>{[0, 1, 2].map((i) => <Skeleton key={i} h={120} radius="md" />)}</SimpleGrid>
      ) : (
        <>
          <RestartNotice restart={status.restart} onRestarted={() => void refresh()} />
          <ReadinessCard status={status} />
          <ClusterNodesCard refreshKey={updatedAt} />
          <SimpleGrid cols={{ base: 1, md: 3 }} data-testid="status-lights">
            {statusLights(status).map((item) => (
              <Card key={item.key} withBorder radius="md" padding="lg" aria-label={`${t(`lights.${item.key}`)}: ${t(`common:light.${item.light}`)}`}>
                <Group justify="space-between" mb="xs" wrap="wrap" gap="xs">
                  <Text fw={600}>{t(`lights.${item.key}`)}</Text>
                  <StatusLight light={item.light} text={item.key === 'service' ? t(`states.${status.state}`) : undefined} />
                </Group>
                <Text size="sm" c="dimmed">{explain(item.explanation)}</Text>
              </Card>
            ))}
          </SimpleGrid>
          {diagnostics.result && diagnostics.result.certificates.some((c) => c.state === 'active') ? (
            <Card withBorder radius="md" padding="lg">
              <Title order={4} mb="sm">{t('certificates.title')}</Title>
              <Group gap="xl">
                {diagnostics.result.certificates.filter((c) => c.state === 'active').map((c) => {
                  const usage = c.usage === 'auth' ? t('certificates.auth') : t('certificates.sign')
                  const ocsp = ocspLight(c.ocsp)
                  return (
                    <Group key={c.id} gap={6} aria-label={t('certificates.ariaLabel', { usage, subject: c.subject })}>
                      <Text size="sm" fw={600}>{usage}</Text>
                      <StatusLight light={c.light} text={t('certificates.daysLeft', { count: c.daysLeft })} />
                      <StatusLight light={ocsp.light} text={ocsp.text} />
                    </Group>
                  )
                })}
              </Group>
            </Card>
          ) : null}
          <Card withBorder radius="md" padding="lg">
            <Group justify="space-between" mb="sm" wrap="wrap" gap="xs">
              <Title order={4}>{t('messagesLastHour')}</Title>
              <Button size="xs" variant="light" onClick={() => navigate('operations')}>{t('openOperations')}</Button>
            </Group>
            <TrafficChart result={diagnostics.result} />
          </Card>
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            <Card withBorder radius="md" padding="lg">
              <Title order={4} mb="sm">{t('listeners.title')}</Title>
              {status.expectedListeners.length === 0 ? (
                <Text size="sm" c="dimmed">{t('listeners.off')}</Text>
              ) : (
                <Table.ScrollContainer minWidth={420}>
                  <Table aria-label={t('listeners.title')}>
                    <Table.Thead>
                      <Table.Tr><Table.Th>{t('listeners.name')}</Table.Th><Table.Th>{t('listeners.address')}</Table.Th><Table.Th>{t('listeners.state')}</Table.Th></Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {status.expectedListeners.map((l) => (
                        <Table.Tr key={l.name} data-testid={`listener-${l.name}`}>
                          <Table.Td>{t(`listeners.names.${l.name}`)}</Table.Td>
                          <Table.Td><Text ff="monospace" size="sm">{l.url ?? l.address}</Text></Table.Td>
                          <Table.Td>
                            <Badge color={l.listening ? 'green' : 'red'} variant="light" styles={{ label: { overflow: 'visible' } }}>{l.listening ? t('listeners.listening') : t('listeners.notListening')}</Badge>
                            {l.problem !== null ? <Text size="xs" c="dimmed">{l.problem}</Text> : null}
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Card>
            <Card withBorder radius="md" padding="lg">
              <Title order={4} mb="sm">{t('databases.title')}</Title>
              {status.sharedDatabase !== undefined ? <SharedDatabase database={status.sharedDatabase} /> : null}
              <Table.ScrollContainer minWidth={420}>
                <Table aria-label={t('databases.title')}>
                  <Table.Thead>
                    <Table.Tr><Table.Th>{t('databases.name')}</Table.Th><Table.Th>{t('databases.journal')}</Table.Th><Table.Th>{t('databases.synchronous')}</Table.Th><Table.Th>{t('databases.schema')}</Table.Th></Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {status.databases.map((d) => (
                      <Table.Tr key={d.name}>
                        <Table.Td>{d.name}</Table.Td>
                        <Table.Td>{d.journalMode}</Table.Td>
                        <Table.Td>{d.synchronous}</Table.Td>
                        <Table.Td><Text size="xs" c="dimmed">{d.schema.map((s) => `${s.component} v${s.version}`).join(', ') || t('databases.empty')}</Text></Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Card>
          </SimpleGrid>
        </>
      )}
    </Stack>
  )
}
