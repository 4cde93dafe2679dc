import { Fragment, useEffect } from 'react'
import { BarChart, LineChart } from '@mantine/charts'
import {
  Alert, Anchor, Button, Card, Code, Group, Loader, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Title,
} from '@mantine/core'
import type { FailedExchange, OperationsSummary, PartyTraffic } from '@shared/admin-api/admin-api'
import { formatDateTime, formatNumber, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { AlertList } from './AlertList'
import { AlertSettingsCard } from './AlertSettingsCard'
import { faultMeaning } from './fault-texts'
import {
  FAILURE_LIMIT, RANGE_PRESETS, ReversedRangeError, openInMessageLog, useOperationsStore, type FailureSelection, type RangePreset,
} from './operations-store'

const HALF_DAY_MS = 12 * 3600_000

/** An identifier or code that may wrap after its separators, never in the middle of a word. */
function Breakable({ text, after }: { text: string; after: string }) {
  const parts = text.split(after)
  return <>{parts.map((part, i) => <Fragment key={i}>{part}{i < parts.length - 1 ? <>{after}<wbr /></> : null}</Fragment>)}</>
}

function useIntervalText(): (seconds: number) => string {
  const t = useT('operations')
  return (seconds) => {
    if (seconds % 86_400 === 0) return t('interval.days', { count: seconds / 86_400 })
    if (seconds % 3600 === 0) return t('interval.hours', { count: seconds / 3600 })
    if (seconds % 60 === 0) return t('interval.minutes', { count: seconds / 60 })
    return t('interval.seconds', { count: seconds })
  }
}

function useMs(): (value: number | null) => string {
  const t = useT('operations')
  return (value) => (value === null ? t('latency.none') : t('latency.ms', { value: formatNumber(value, { maximumFractionDigits: 0 }) }))
}

/**
 * Operational monitoring for the operator: traffic over a chosen time range, per service and per client, failures by
 * X-Road error code with their meaning (each opening the failed exchanges and, from there, their message-log records),
 * latency percentiles, and the alerts with where they are delivered.
 */
export function OperationsPage() {
  const t = useT('operations', 'common')
  const { load, loading, error, summary, updatedAt } = useOperationsStore()
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div style={{ flex: '1 1 320px' }}>
          <Title order={2}>{t('title')}</Title>
          <Text c="dimmed" size="sm">{t('introduction')}</Text>
        </div>
        <Group gap="sm">
          {loading ? <Loader size="xs" aria-label={t('common:loading')} /> : null}
          {updatedAt ? <Text size="xs" c="dimmed">{t('updatedAt', { time: formatDateTime(updatedAt, { timeStyle: 'medium' }) })}</Text> : null}
          <Button variant="default" onClick={() => void load()} aria-busy={loading}>{t('refresh')}</Button>
        </Group>
      </Group>
      <RangeControls />
      {error instanceof ReversedRangeError ? <Alert color="red" role="alert">{t('range.reversed')}</Alert> : error ? <ErrorNotice error={error} /> : null}
      {summary === null ? null : (
        <>
          <Totals summary={summary} />
          <TrafficCard summary={summary} />
          <FaultsCard summary={summary} />
          <LatencyCard summary={summary} />
          <PartiesCard summary={summary} kind="service" />
          <PartiesCard summary={summary} kind="client" />
        </>
      )}
      <AlertsCard />
    </Stack>
  )
}

function RangeControls() {
  const t = useT('operations')
  const { preset, customFrom, customTo, side, setPreset, setCustom, setSide, load, summary } = useOperationsStore()
  const choose = (value: string): void => {
    setPreset(value as RangePreset)
    if (value !== 'custom') void load()
  }
  return (
    <Card withBorder radius="md" padding="md">
      <Group align="flex-end" gap="md" wrap="wrap">
        <div>
          <Text size="sm" fw={500} mb={4} id="operations-range">{t('range.label')}</Text>
          <SegmentedControl aria-labelledby="operations-range" value={preset} onChange={choose} data={RANGE_PRESETS.map((p) => ({ value: p, label: t(`range.${p}`) }))} />
        </div>
        <Select
          label={t('side.label')} value={side} allowDeselect={false} w={190}
          data={(['all', 'client', 'producer'] as const).map((s) => ({ value: s, label: t(`side.${s}`) }))}
          onChange={(value) => {
            if (value === null) return
            setSide(value as typeof side)
            void load()
          }}
        />
        {preset === 'custom' ? (
          <>
            <TextInput type="datetime-local" label={t('range.from')} value={customFrom} onChange={(e) => setCustom({ customFrom: e.currentTarget.value })} />
            <TextInput type="datetime-local" label={t('range.to')} value={customTo} onChange={(e) => setCustom({ customTo: e.currentTarget.value })} />
            <Button onClick={() => void load()}>{t('range.apply')}</Button>
          </>
        ) : null}
      </Group>
      {summary !== null ? (
        <Text size="xs" c="dimmed" mt="sm">
          {summary.oldestRecordAt === null
            ? t('range.retentionEmpty', { count: summary.retentionDays })
            : t('range.retention', { count: summary.retentionDays, oldest: formatDateTime(summary.oldestRecordAt) })}
        </Text>
      ) : null}
    </Card>
  )
}

function Totals({ summary }: { summary: OperationsSummary }) {
  const t = useT('operations')
  const ms = useMs()
  const total = summary.totals.succeeded + summary.totals.failed
  const rate = total === 0 ? 0 : summary.totals.failed / total
  const figures = [
    { key: 'exchanges', value: formatNumber(total) },
    { key: 'failed', value: formatNumber(summary.totals.failed), color: summary.totals.failed > 0 ? 'red' : undefined },
    { key: 'failureRate', value: formatNumber(rate, { style: 'percent', maximumFractionDigits: 1 }) },
    { key: 'p50', value: ms(summary.latency.p50Ms) },
    { key: 'p95', value: ms(summary.latency.p95Ms) },
    { key: 'p99', value: ms(summary.latency.p99Ms) },
  ] as const
  return (
    <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} data-testid="operations-totals">
      {figures.map((f) => (
        <Card key={f.key} withBorder radius="md" padding="md">
          <Text size="xs" c="dimmed" tt="uppercase" fw={600}>{t(`totals.${f.key}`)}</Text>
          <Text size="xl" fw={700} c={'color' in f ? f.color : undefined} data-testid={`total-${f.key}`}>{f.value}</Text>
        </Card>
      ))}
    </SimpleGrid>
  )
}

function tickFormat(summary: OperationsSummary): Intl.DateTimeFormatOptions {
  return Date.parse(summary.to) - Date.parse(summary.from) > HALF_DAY_MS
    ? { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' }
}

function TrafficCard({ summary }: { summary: OperationsSummary }) {
  const t = useT('operations')
  const interval = useIntervalText()
  const rows = summary.traffic.map((p) => ({ at: Date.parse(p.start), succeeded: p.succeeded, failed: p.failed }))
  const format = tickFormat(summary)
  return (
    <Card withBorder radius="md" padding="lg">
      <Title order={4} mb="sm">{t('traffic.title')}</Title>
      {rows.length === 0 ? <Text size="sm" c="dimmed">{t('traffic.empty')}</Text> : (
        <BarChart
          h={260}
          data={rows}
          dataKey="at"
          type="stacked"
          aria-label={t('traffic.chartLabel')}
          series={[{ name: 'succeeded', label: t('traffic.succeeded'), color: 'teal.6' }, { name: 'failed', label: t('traffic.failed'), color: 'red.6' }]}
          withLegend
          legendProps={{ verticalAlign: 'bottom' }}
          xAxisLabel={t('traffic.time')}
          yAxisLabel={t('traffic.perInterval', { interval: interval(summary.bucketSeconds) })}
          xAxisProps={{ tickFormatter: (value: number) => formatDateTime(value, format), minTickGap: 32 }}
          yAxisProps={{ allowDecimals: false, width: 56 }}
          valueFormatter={(value) => formatNumber(value)}
          tooltipProps={{ labelFormatter: (value: unknown) => formatDateTime(Number(value), { dateStyle: 'medium', timeStyle: 'short' }) }}
        />
      )}
    </Card>
  )
}

function LatencyCard({ summary }: { summary: OperationsSummary }) {
  const t = useT('operations')
  const ms = useMs()
  const rows = summary.traffic.map((p) => ({ at: Date.parse(p.start), p50: p.p50Ms, p95: p.p95Ms, p99: p.p99Ms }))
  const format = tickFormat(summary)
  return (
    <Card withBorder radius="md" padding="lg">
      <Title order={4}>{t('latency.title')}</Title>
      <Text size="xs" c="dimmed" mb="sm">{t('latency.help')}</Text>
      {rows.length === 0 ? <Text size="sm" c="dimmed">{t('traffic.empty')}</Text> : (
        <LineChart
          h={260}
          data={rows}
          dataKey="at"
          aria-label={t('latency.chartLabel')}
          series={[
            { name: 'p50', label: t('latency.p50'), color: 'indigo.6' },
            { name: 'p95', label: t('latency.p95'), color: 'orange.6' },
            { name: 'p99', label: t('latency.p99'), color: 'red.6' },
          ]}
          withLegend
          legendProps={{ verticalAlign: 'bottom' }}
          connectNulls
          xAxisLabel={t('traffic.time')}
          yAxisLabel={t('latency.axis')}
          xAxisProps={{ tickFormatter: (value: number) => formatDateTime(value, format), minTickGap: 32 }}
          // The axis is labelled in milliseconds: plain numbers on its ticks, the unit in the tooltip.
          yAxisProps={{ width: 56, tickFormatter: (value: number) => formatNumber(value) }}
          valueFormatter={(value) => ms(value)}
          tooltipProps={{ labelFormatter: (value: unknown) => formatDateTime(Number(value), { dateStyle: 'medium', timeStyle: 'short' }) }}
          curveType="monotone"
        />
      )}
    </Card>
  )
}

function FaultsCard({ summary }: { summary: OperationsSummary }) {
  const t = useT('operations')
  const { selection, showFailures, closeFailures } = useOperationsStore()
  const open = selection?.kind === 'fault' ? selection.faultCode : null
  return (
    <Card withBorder radius="md" padding="lg" data-testid="faults">
      <Title order={4} mb="sm">{t('faults.title')}</Title>
      {summary.faults.length === 0 ? <Text size="sm" c="dimmed">{t('faults.none')}</Text> : (
        <Table.ScrollContainer minWidth={680}>
          <Table verticalSpacing="sm" aria-label={t('faults.title')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('faults.code')}</Table.Th><Table.Th>{t('faults.meaning')}</Table.Th><Table.Th ta="right">{t('faults.count')}</Table.Th>
                <Table.Th>{t('faults.last')}</Table.Th><Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {summary.faults.map((f) => (
                <Table.Tr key={f.faultCode} data-testid="fault-row" data-code={f.faultCode}>
                  <Table.Td style={{ width: 240, minWidth: 200 }}>
                    {f.faultCode === '' ? <Text size="xs" c="dimmed">{t('faults.noCode')}</Text> : <Code style={{ whiteSpace: 'normal', overflowWrap: 'anywhere' }}><Breakable text={f.faultCode} after="." /></Code>}
                    {f.services.some((s) => s !== '') ? (
                      <Text size="xs" c="dimmed" mt={4} style={{ overflowWrap: 'anywhere' }}>{t('faults.services')}: {f.services.filter((s) => s !== '').join(', ')}</Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td><Text size="sm">{faultMeaning(f.faultCode)}</Text></Table.Td>
                  <Table.Td ta="right"><Text fw={600}>{formatNumber(f.count)}</Text></Table.Td>
                  <Table.Td><Text size="xs">{formatDateTime(f.lastAt)}</Text></Table.Td>
                  <Table.Td>
                    <Button size="xs" variant={open === f.faultCode ? 'filled' : 'light'} onClick={() => (open === f.faultCode ? closeFailures() : void showFailures({ kind: 'fault', faultCode: f.faultCode }))}>
                      {open === f.faultCode ? t('faults.hide') : t('faults.show')}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <FailureList kind="fault" />
    </Card>
  )
}

function selectionText(selection: FailureSelection, unknown: string): string {
  if (selection.kind === 'fault') return selection.faultCode === '' ? unknown : selection.faultCode
  return selection.path === '' ? unknown : selection.path
}

/** The failed exchanges behind the chosen figure, each opening its message-log records. */
function FailureList({ kind }: { kind: FailureSelection['kind'] }) {
  const t = useT('operations')
  const { selection, failures, failuresLoading, failuresError, closeFailures } = useOperationsStore()
  const ms = useMs()
  if (selection === null || selection.kind !== kind) return null
  return (
    <Stack gap="xs" mt="md" data-testid="failure-list">
      <Group justify="space-between">
        <Text fw={600} style={{ overflowWrap: 'anywhere' }}>{t('failures.title', { what: selectionText(selection, t('faults.noCode')) })}</Text>
        <Button size="xs" variant="subtle" onClick={closeFailures}>{t('failures.close')}</Button>
      </Group>
      {failuresError ? <ErrorNotice error={failuresError} /> : null}
      {failuresLoading && failures === null ? <Loader size="sm" /> : null}
      {failures !== null && failures.length === 0 ? <Text size="sm" c="dimmed">{t('failures.empty')}</Text> : null}
      {failures !== null && failures.length > 0 ? (
        <Table.ScrollContainer minWidth={640}>
          <Table verticalSpacing="xs" aria-label={t('failures.tableLabel')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('failures.time')}</Table.Th><Table.Th>{t('failures.client')} / {t('failures.service')}</Table.Th>
                <Table.Th>{t('failures.error')}</Table.Th><Table.Th ta="right">{t('failures.duration')}</Table.Th><Table.Th>{t('failures.records')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {failures.map((f, i) => <FailureRow key={`${f.messageId ?? ''}-${f.at}-${i}`} failure={f} ms={ms} />)}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ) : null}
      {failures !== null && failures.length >= FAILURE_LIMIT ? <Text size="xs" c="dimmed">{t('failures.more', { count: FAILURE_LIMIT })}</Text> : null}
    </Stack>
  )
}

function FailureRow({ failure, ms }: { failure: FailedExchange; ms: (v: number | null) => string }) {
  const t = useT('operations')
  return (
    <Table.Tr data-testid="failure-row" data-query-id={failure.messageId ?? ''}>
      <Table.Td>
        <Text size="xs" style={{ whiteSpace: 'nowrap' }}>{formatDateTime(failure.at, { dateStyle: 'short', timeStyle: 'medium' })}</Text>
        <Text size="xs" c="dimmed">{t(`sides.${failure.side}`)}</Text>
      </Table.Td>
      <Table.Td style={{ minWidth: 150 }}>
        <Text size="xs" ff="monospace" style={{ overflowWrap: 'anywhere' }}>{failure.clientPath === null ? t('parties.unknown') : <Breakable text={failure.clientPath} after="/" />}</Text>
        <Text size="xs" ff="monospace" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{failure.servicePath === null ? t('parties.unknown') : <Breakable text={failure.servicePath} after="/" />}</Text>
      </Table.Td>
      <Table.Td style={{ minWidth: 170 }}>
        <Text size="xs" ff="monospace" style={{ overflowWrap: 'anywhere' }}>{failure.faultCode === null ? t('faults.noCode') : <Breakable text={failure.faultCode} after="." />}</Text>
        {failure.faultString !== null ? <Text size="xs" c="dimmed" lineClamp={3} title={failure.faultString}>{failure.faultString}</Text> : null}
      </Table.Td>
      <Table.Td ta="right"><Text size="xs" style={{ whiteSpace: 'nowrap' }}>{ms(failure.durationMs)}</Text></Table.Td>
      <Table.Td style={{ minWidth: 120 }}>
        <Anchor component="button" type="button" size="xs" fw={600} ta="left" onClick={() => openInMessageLog(failure)}>{t('failures.open')}</Anchor>
        {failure.messageId !== null ? <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }}><Breakable text={failure.messageId} after="-" /></Text> : null}
      </Table.Td>
    </Table.Tr>
  )
}

/** The last two parts of a path (`provider/pets`): what tells services apart on a chart axis; the table has the whole path. */
function shortPath(path: string, unknown: string): string {
  return path === '' ? unknown : path.split('/').slice(-2).join('/')
}

function PartiesCard({ summary, kind }: { summary: OperationsSummary; kind: 'service' | 'client' }) {
  const t = useT('operations')
  const ms = useMs()
  const { showFailures } = useOperationsStore()
  const parties: PartyTraffic[] = kind === 'service' ? summary.services : summary.clients
  const title = t(kind === 'service' ? 'parties.services' : 'parties.clients')
  const unknown = t('parties.unknown')
  const top = parties.slice(0, 8).map((p) => ({ name: shortPath(p.path, unknown), full: p.path === '' ? unknown : p.path, succeeded: p.succeeded, failed: p.failed }))
  return (
    <Card withBorder radius="md" padding="lg" data-testid={`parties-${kind}`}>
      <Title order={4} mb="sm">{title}</Title>
      {parties.length === 0 ? <Text size="sm" c="dimmed">{t('parties.empty')}</Text> : (
        <Stack gap="md">
          <BarChart
            h={Math.max(140, top.length * 36 + 80)}
            data={top}
            dataKey="name"
            orientation="vertical"
            type="stacked"
            aria-label={t('parties.chartLabel', { what: t(kind === 'service' ? 'parties.service' : 'parties.client') })}
            series={[{ name: 'succeeded', label: t('traffic.succeeded'), color: 'teal.6' }, { name: 'failed', label: t('traffic.failed'), color: 'red.6' }]}
            withLegend
            legendProps={{ verticalAlign: 'bottom' }}
            xAxisLabel={t('parties.count')}
            yAxisProps={{ width: 170 }}
            xAxisProps={{ allowDecimals: false }}
            valueFormatter={(value) => formatNumber(value)}
            tooltipProps={{ labelFormatter: (_label: unknown, payload: ReadonlyArray<{ payload?: { full?: string } }>) => payload[0]?.payload?.full ?? '' }}
          />
          <Table.ScrollContainer minWidth={620}>
            <Table verticalSpacing="xs" aria-label={title}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t(kind === 'service' ? 'parties.service' : 'parties.client')}</Table.Th>
                  <Table.Th ta="right">{t('parties.exchanges')}</Table.Th><Table.Th ta="right">{t('parties.failed')}</Table.Th>
                  <Table.Th ta="right">{t('parties.p50')}</Table.Th><Table.Th ta="right">{t('parties.p95')}</Table.Th><Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {parties.map((p) => (
                  <Table.Tr key={p.id} data-testid={`${kind}-row`}>
                    <Table.Td style={{ maxWidth: 280 }}>
                      <Text size="sm" ff="monospace" style={{ overflowWrap: 'anywhere' }}>{p.path === '' ? unknown : <Breakable text={p.path} after="/" />}</Text>
                    </Table.Td>
                    <Table.Td ta="right">{formatNumber(p.succeeded + p.failed)}</Table.Td>
                    <Table.Td ta="right"><Text size="sm" c={p.failed > 0 ? 'red' : undefined}>{formatNumber(p.failed)}</Text></Table.Td>
                    <Table.Td ta="right" style={{ whiteSpace: 'nowrap' }}>{ms(p.latency.p50Ms)}</Table.Td>
                    <Table.Td ta="right" style={{ whiteSpace: 'nowrap' }}>{ms(p.latency.p95Ms)}</Table.Td>
                    <Table.Td>
                      {p.failed > 0 && p.id !== '' ? (
                        <Button size="xs" variant="subtle" color="red" onClick={() => void showFailures({ kind, id: p.id, path: p.path })}>{t('parties.showFailures')}</Button>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Stack>
      )}
      <FailureList kind={kind} />
    </Card>
  )
}

function AlertsCard() {
  const t = useT('operations')
  return (
    <SimpleGrid cols={{ base: 1, xl: 2 }} id="alerts">
      <Card withBorder radius="md" padding="lg" data-testid="alerts-card">
        <Title order={4} mb="sm">{t('alerts.title')}</Title>
        <AlertList showResolved />
      </Card>
      <AlertSettingsCard />
    </SimpleGrid>
  )
}
