import { Group, Paper, Stack, Text } from '@mantine/core'
import type { ProbeResult, ProbeStep } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { StatusLight } from '../../lib/StatusLight'
import { msText, probeAddress, probeTarget, probeText, stepName } from './probe-texts'

/** A colour per step, the same on every probe, so that the bars compare at a glance; a failed step is red. */
const STEP_COLORS: Record<ProbeStep['name'], string> = {
  route: 'gray', dns: 'grape', connect: 'blue', tls: 'indigo', answer: 'cyan', verify: 'teal', parts: 'lime', 'peer-auth': 'violet', sign: 'orange', peer: 'yellow',
}
const colorOf = (step: ProbeStep): string => `var(--mantine-color-${step.ok ? STEP_COLORS[step.name] : 'red'}-6)`

/** Each step's share of the probe's time as a bar, and each step named with its time (colour is never the only signal). */
export function StepTimings({ steps, totalMs }: { steps: ProbeStep[]; totalMs: number }) {
  const t = useT('diagnostics')
  const words = steps.map((s) => `${stepName(s)} ${msText(s.ms)}${s.ok ? '' : ` (${t('probes.failed')})`}`)
  const summary = `${words.join(', ')}; ${t('probes.total', { time: msText(totalMs) })}`
  return (
    <Stack gap={4}>
      {steps.length > 0 ? (
        <div role="img" aria-label={summary} style={{ display: 'flex', gap: 1, height: 8, borderRadius: 4, overflow: 'hidden' }}>
          {/* Grow factors summing below 1 would leave the bar part empty: scale them up. */}
          {steps.map((s, i) => <div key={`${s.name}-${i}`} style={{ flexGrow: s.ms * 100, flexBasis: 0, minWidth: 3, background: colorOf(s) }} />)}
        </div>
      ) : null}
      <Group gap="xs" wrap="wrap" aria-hidden>
        {steps.map((s, i) => (
          <Group key={`${s.name}-${i}`} gap={4} wrap="nowrap">
            <span style={{ display: 'block', width: 8, height: 8, borderRadius: 2, background: colorOf(s) }} />
            <Text size="xs" c={s.ok ? 'dimmed' : 'red'} style={{ whiteSpace: 'nowrap' }}>
              {stepName(s)} {msText(s.ms)}{s.ok ? '' : ` (${t('probes.failed')})`}
            </Text>
          </Group>
        ))}
        <Text size="xs" fw={600} style={{ whiteSpace: 'nowrap' }}>{t('probes.total', { time: msText(totalMs) })}</Text>
      </Group>
    </Stack>
  )
}

/** One probe: what and where, its light, what it found in words, and its timing. */
export function ProbeResultView({ result }: { result: ProbeResult }) {
  const t = useT('diagnostics', 'common')
  const target = probeTarget(result)
  const address = probeAddress(result)
  return (
    <Paper withBorder p="sm" data-code={result.code} aria-label={t('probes.resultLabel', { name: target || t(`probes.kinds.${result.kind}`), light: t(`common:light.${result.light}`) })}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <div style={{ minWidth: 0 }}>
            {target !== '' ? <Text fw={600} size="sm" style={{ overflowWrap: 'anywhere' }}>{target}</Text> : null}
            {address !== '' ? <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{address}</Text> : null}
          </div>
          <StatusLight light={result.light} />
        </Group>
        <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{probeText(result)}</Text>
        {result.kind === 'tsa' && typeof result.params.inUse === 'boolean' ? (
          <Text size="xs" c="dimmed">{t(result.params.inUse ? 'probes.inUse' : 'probes.notInUse')}</Text>
        ) : null}
        <StepTimings steps={result.steps} totalMs={result.totalMs} />
      </Stack>
    </Paper>
  )
}
