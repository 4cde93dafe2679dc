import { Button, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core'
import { PROBE_KINDS } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useDiagnosticsStore } from './diagnostics-store'
import { ProbeResultView } from './ProbeResultView'

/** Probes on demand: each TSA, OCSP responder, configuration source and own listener, reached now and timed. */
export function ProbesCard() {
  const t = useT('diagnostics')
  const { probes, probing, probeError, probe } = useDiagnosticsStore()
  return (
    <Card withBorder data-testid="probes">
      <Group justify="space-between" align="flex-start" mb="sm" wrap="wrap">
        <div style={{ flex: '1 1 20rem' }}>
          <Title order={4}>{t('probes.title')}</Title>
          <Text size="sm" c="dimmed">{t('probes.hint')}</Text>
        </div>
        <Button onClick={() => void probe()} loading={probing}>{t('probes.run')}</Button>
      </Group>
      {probeError ? <ErrorNotice error={probeError} /> : null}
      {probes === null ? (
        <Text size="sm" c="dimmed">{probing ? t('probes.running') : t('probes.notRun')}</Text>
      ) : (
        <Stack gap="md">
          <Text size="xs" c="dimmed">{t('probes.ranAt', { time: formatDateTime(probes.finishedAt, { dateStyle: 'medium', timeStyle: 'medium' }) })}</Text>
          {PROBE_KINDS.filter((kind) => kind !== 'peer').map((kind) => {
            const results = probes.probes.filter((p) => p.kind === kind)
            if (results.length === 0) return null
            return (
              <section key={kind} aria-label={t(`probes.kinds.${kind}`)}>
                <Title order={5} mb="xs">{t(`probes.kinds.${kind}`)}</Title>
                <SimpleGrid cols={{ base: 1, lg: 2 }}>
                  {results.map((r, i) => <ProbeResultView key={`${r.target}-${i}`} result={r} />)}
                </SimpleGrid>
              </section>
            )
          })}
        </Stack>
      )}
    </Card>
  )
}
