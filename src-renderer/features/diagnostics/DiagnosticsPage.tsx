import { useEffect } from 'react'
import { Badge, Button, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { useDiagnosticsStore } from './diagnostics-store'
import { checkName, checkText, durationText } from './diagnostics-texts'
import { TrafficChart } from './TrafficChart'
import { HealthCheckCard } from './HealthCheckCard'
import { PeerTestCard } from './PeerTestCard'
import { ProbesCard } from './ProbesCard'

/** The message-rate windows offered, in minutes. */
const WINDOWS = [60, 360, 1440] as const
const BADGE_STYLES = { root: { flexShrink: 0, maxWidth: 'none' }, label: { overflow: 'visible', textOverflow: 'clip' } } as const

/**
 * Diagnostics: every check with its light and what to do; probes of the services this server depends on, its own
 * listeners and a peer, each step timed; the health check load balancers see; certificate countdowns and message rates;
 * and the bundle to send to support.
 */
export function DiagnosticsPage() {
  const t = useT('diagnostics', 'common')
  const { result, windowMinutes, loading, error, run, bundling, bundleError, downloadBundle } = useDiagnosticsStore()
  useEffect(() => {
    void run()
  }, [run])
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Title order={2}>{t('screen.title')}</Title>
          <Text c="dimmed" size="sm">
            {result ? t('screen.checkedAt', { time: formatDateTime(result.checkedAt, { dateStyle: 'medium', timeStyle: 'medium' }) }) : t('screen.running')}
          </Text>
        </div>
        <Group gap="sm">
          <Button variant="default" onClick={() => void downloadBundle()} loading={bundling} title={t('bundle.hint')}>{t('bundle.download')}</Button>
          <Button variant="default" onClick={() => void run()} loading={loading}>{t('screen.runAgain')}</Button>
        </Group>
      </Group>
      {error ? <ErrorNotice error={error} /> : null}
      {bundleError ? <ErrorNotice error={bundleError} /> : null}
      <SimpleGrid cols={{ base: 1, md: 2 }} data-testid="diagnostic-checks" aria-label={t('checks.label')}>
        {result?.checks.map((c) => (
          <Card key={c.key} withBorder aria-label={t('checks.cardLabel', { name: checkName(c), light: t(`common:light.${c.light}`) })} data-code={c.code}>
            <Group justify="space-between" mb="xs" wrap="nowrap" align="flex-start"><Text fw={600}>{checkName(c)}</Text><StatusLight light={c.light} /></Group>
            <Text size="sm" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{checkText(c)}</Text>
          </Card>
        ))}
      </SimpleGrid>
      <ProbesCard />
      <PeerTestCard />
      <HealthCheckCard />
      <Card withBorder>
        <Group justify="space-between" mb="sm" wrap="wrap">
          <Title order={4}>{t('rates.title')}</Title>
          <SegmentedControl
            aria-label={t('rates.period')}
            value={String(windowMinutes)}
            onChange={(v) => void run(Number(v))}
            data={WINDOWS.map((minutes) => ({ value: String(minutes), label: durationText(minutes * 60) }))}
          />
        </Group>
        <TrafficChart result={result} />
      </Card>
      <Card withBorder>
        <Title order={4} mb="sm">{t('certificates.title')}</Title>
        {result && result.certificates.length > 0 ? (
          <Table.ScrollContainer minWidth={720}>
            <Table aria-label={t('certificates.label')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('certificates.certificate')}</Table.Th><Table.Th>{t('certificates.usage')}</Table.Th><Table.Th>{t('certificates.state')}</Table.Th>
                  <Table.Th>{t('certificates.ocsp')}</Table.Th><Table.Th>{t('certificates.daysLeft')}</Table.Th><Table.Th>{t('certificates.status')}</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {result.certificates.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td><Text size="sm" style={{ overflowWrap: 'anywhere' }}>{c.subject}</Text></Table.Td>
                    <Table.Td>{t(`certificates.usages.${c.usage ?? 'unknown'}`)}</Table.Td>
                    <Table.Td>{t(`certificates.states.${c.state}`)}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={c.ocsp === 'good' ? 'green' : c.ocsp === 'revoked' ? 'red' : 'gray'} styles={BADGE_STYLES}>
                        {t(`certificates.ocspStates.${c.ocsp}`)}
                      </Badge>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      {c.daysLeft >= 0 ? t('certificates.days', { count: c.daysLeft }) : t('certificates.expiredAgo', { count: -c.daysLeft })}
                    </Table.Td>
                    <Table.Td><StatusLight light={c.light} /></Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ) : <Text size="sm" c="dimmed">{t('certificates.none')}</Text>}
      </Card>
    </Stack>
  )
}
