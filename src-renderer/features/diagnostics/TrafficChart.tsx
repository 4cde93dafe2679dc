import { AreaChart } from '@mantine/charts'
import { Text } from '@mantine/core'
import type { Diagnostics } from '@shared/admin-api/admin-api'
import { formatDateTime, formatNumber, useT } from '../../i18n'
import { trafficRows } from './diagnostics-store'

const HALF_DAY_MS = 12 * 3600 * 1000

/**
 * Messages per interval from operational monitoring: succeeded and failed stacked, the time axis in local time
 * written the reader's way (with the day once the window spans more than half a day), the count axis per interval.
 */
export function TrafficChart({ result }: { result: Diagnostics | null }) {
  const t = useT('diagnostics')
  const rows = trafficRows(result)
  const first = rows[0]
  const last = rows.at(-1)
  if (first === undefined || last === undefined) return <Text size="sm" c="dimmed">{t('chart.empty')}</Text>
  const bucketMinutes = Math.max(1, Math.round((result?.traffic.bucketSeconds ?? 60) / 60))
  const tickFormat: Intl.DateTimeFormatOptions = last.at - first.at > HALF_DAY_MS
    ? { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' }
  return (
    <AreaChart
      h={260}
      data={rows}
      dataKey="at"
      type="stacked"
      aria-label={t('chart.label')}
      series={[{ name: 'succeeded', label: t('chart.succeeded'), color: 'teal.6' }, { name: 'failed', label: t('chart.failed'), color: 'red.6' }]}
      withLegend
      legendProps={{ verticalAlign: 'bottom' }}
      xAxisLabel={t('chart.time')}
      yAxisLabel={t('chart.perInterval', { count: bucketMinutes })}
      xAxisProps={{ tickFormatter: (value: number) => formatDateTime(value, tickFormat), minTickGap: 32 }}
      yAxisProps={{ allowDecimals: false, width: 56 }}
      valueFormatter={(value) => formatNumber(value)}
      tooltipProps={{ labelFormatter: (value: unknown) => formatDateTime(Number(value), { dateStyle: 'medium', timeStyle: 'short' }) }}
      curveType="monotone"
    />
  )
}
