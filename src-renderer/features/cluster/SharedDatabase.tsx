import { Code, Group, Stack, Text } from '@mantine/core'
import type { SharedDatabaseInfo } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { StatusLight } from '../../lib/StatusLight'

/**
 * In the dashboard's Databases card of a cluster node (issue 18): the shared PostgreSQL database that holds the server
 * configuration — where it is (never its password), whether this node reaches it now, and its schema versions.
 */
export function SharedDatabase({ database: d }: { database: SharedDatabaseInfo }) {
  const t = useT('cluster')
  return (
    <Stack gap={4} mb="md" data-testid="shared-database">
      <Group gap="xs" wrap="wrap" justify="space-between">
        <Text fw={600} size="sm">{t('database.title')}</Text>
        <StatusLight light={d.reachable ? 'green' : 'red'} text={d.reachable ? t('database.reachable') : t('database.unreachable')} />
      </Group>
      <Code style={{ overflowWrap: 'anywhere', whiteSpace: 'normal' }}>{`${d.host}:${d.port}/${d.database}`}</Code>
      <Text size="xs" c="dimmed">{t('database.where', { schema: d.schema, user: d.user })}</Text>
      {d.reachable
        ? <Text size="xs" c="dimmed">{t('database.versions', { versions: d.versions.map((v) => `${v.component} v${v.version}`).join(', ') || t('database.none') })}</Text>
        : <Text size="xs" c="red">{d.problem}</Text>}
    </Stack>
  )
}
