import { useEffect } from 'react'
import { Badge, Card, Group, Stack, Table, Text, Title } from '@mantine/core'
import type { ClusterNodeDto } from '@shared/admin-api/admin-api'
import { formatDateTime, translate, useT } from '../../i18n'
import { adminClient } from '../../lib/admin-client'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { localizeError } from '../../lib/localized-error'
import { StatusLight } from '../../lib/StatusLight'
import { useClusterStore } from './cluster-store'

/**
 * The dashboard's card of a cluster (issue 18): every node with its role, whether its heartbeat is recent, whether it
 * can take traffic and its own message log; on the primary, a stale node can be forgotten. Nothing outside a cluster.
 */
export function ClusterNodesCard({ refreshKey }: { refreshKey?: unknown }) {
  const t = useT('cluster', 'dashboard')
  const { cluster, refresh } = useClusterStore()
  useEffect(() => {
    void refresh()
  }, [refresh, refreshKey])
  if (cluster === null || cluster.nodeType === 'STANDALONE') return null
  const feed = cluster.changeFeed
  return (
    <Card withBorder radius="md" padding="lg" aria-label={t('card.ariaLabel')}>
      <Stack gap={4} mb="sm">
        <Title order={4}>{t('card.title')}</Title>
        <Text size="sm" c="dimmed">{t('card.subtitle', { count: cluster.nodes.length })}</Text>
        {feed !== null ? (
          <Text size="sm" c={feed.state === 'listening' ? 'dimmed' : 'red'} data-testid="change-feed">
            {t(`card.feed.${feed.state}`, { error: feed.lastError ?? '' })}
          </Text>
        ) : null}
      </Stack>
      {cluster.nodes.length === 0 ? (
        <Text size="sm" c="dimmed">{t('card.empty')}</Text>
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table aria-label={t('card.title')} verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('card.columns.node')}</Table.Th>
                <Table.Th>{t('card.columns.role')}</Table.Th>
                <Table.Th>{t('card.columns.heartbeat')}</Table.Th>
                <Table.Th>{t('card.columns.traffic')}</Table.Th>
                <Table.Th>{t('card.columns.messageLog')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {cluster.nodes.map((node) => <NodeRow key={node.name} node={node} staleAfterSeconds={cluster.staleAfterSeconds} canForget={cluster.nodeType === 'PRIMARY' && !node.alive && !node.self} onForgotten={refresh} />)}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  )
}

/** Forgets a stale node, its refusal (alive again, or this node) in the reader's language. */
async function forgetNode(name: string): Promise<void> {
  try {
    await adminClient().call('system', 'forgetClusterNode', { name })
  } catch (error) {
    throw localizeError(error, (code, detail) => (code === 'action_not_possible' && (detail === 'alive' || detail === 'self')
      ? translate(`cluster:card.forget.refused.${detail}`, { node: name })
      : undefined))
  }
}

function NodeRow({ node, staleAfterSeconds, canForget, onForgotten }: { node: ClusterNodeDto; staleAfterSeconds: number; canForget: boolean; onForgotten(): Promise<void> }) {
  const t = useT('cluster', 'dashboard')
  const unclipped = { label: { overflow: 'visible' as const } }
  const log = node.messageLog
  return (
    <Table.Tr data-testid={`cluster-node-${node.name}`}>
      <Table.Td>
        <Text size="sm" fw={600} style={{ whiteSpace: 'nowrap' }}>{node.name}</Text>
        <Text size="xs" c="dimmed">{node.self ? `${t('card.self')} · ${node.version}` : node.version}</Text>
      </Table.Td>
      <Table.Td><Badge variant="light" color={node.role === 'primary' ? 'indigo' : 'gray'} styles={unclipped}>{t(`card.roles.${node.role}`)}</Badge></Table.Td>
      <Table.Td>
        <Group gap={6} wrap="wrap">
          <StatusLight light={node.alive ? 'green' : 'red'} text={node.alive ? t('card.alive') : t('card.stale')} />
        </Group>
        <Text size="xs" c="dimmed">{formatDateTime(node.heartbeatAt, { timeStyle: 'medium' })}</Text>
        {node.alive ? null : <Text size="xs" c="red">{t('card.staleHint', { seconds: staleAfterSeconds })}</Text>}
        {canForget ? (
          <ConfirmAction
            label={t('card.forget.button')}
            ariaLabel={t('card.forget.ariaLabel', { node: node.name })}
            buttonProps={{ px: 0 }}
            title={t('card.forget.title', { node: node.name })}
            consequences={<Consequences items={[t('card.forget.removed', { node: node.name }), t('card.forget.returns', { node: node.name })]} />}
            confirmLabel={t('card.forget.confirm')}
            onConfirm={async () => {
              await forgetNode(node.name)
              await onForgotten()
            }}
          />
        ) : null}
      </Table.Td>
      <Table.Td>
        <StatusLight light={node.readiness.ready ? 'green' : 'red'} text={node.readiness.ready ? t('card.ready') : t('card.notReady')} />
        {node.readiness.failing.length > 0 ? (
          <Text size="xs" c="dimmed">{t('card.failing', { checks: node.readiness.failing.map((key) => t(`dashboard:areas.${key}`)).join(', ') })}</Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        <StatusLight light={log.acceptingMessages ? (log.unstampedRecords ? 'yellow' : 'green') : 'red'} text={log.acceptingMessages ? (log.unstampedRecords ? t('card.unstamped') : t('card.logOk')) : t('card.logRefusing')} />
        <Text size="xs" c="dimmed">{log.lastTimestampAt === null ? t('card.never') : t('card.lastStamp', { time: formatDateTime(log.lastTimestampAt) })}</Text>
      </Table.Td>
    </Table.Tr>
  )
}
