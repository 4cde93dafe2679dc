import { AreaChart } from '@mantine/charts'
import { Text } from '@mantine/core'
import type { Diagnostics } from '@shared/admin-api/admin-api'
import { trafficRows } from './diagnostics-store'

/** Messages per interval from operational monitoring. */
export function TrafficChart({ result }: { result: Diagnostics | null }) {
  const rows = trafficRows(result)
  if (rows.length === 0) return <Text size="sm" c="dimmed">No messages in this period.</Text>
  return (
    <AreaChart
      h={220}
      data={rows}
      dataKey="time"
      type="stacked"
      aria-label="Messages per interval"
      series={[{ name: 'Succeeded', color: 'teal.6' }, { name: 'Failed', color: 'red.6' }]}
      curveType="monotone"
    />
  )
}
