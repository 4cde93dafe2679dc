import { useEffect } from 'react'
import { Button, Card, Code, Group, Stack, Switch, Table, Text, Title } from '@mantine/core'
import type { StatusLight as Light } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { useSessionStore } from '../login/session-store'
import { useDiagnosticsStore } from './diagnostics-store'

const LIGHT_OF: Record<200 | 500 | 503, Light> = { 200: 'green', 500: 'red', 503: 'yellow' }

/**
 * The health-check endpoint load balancers ask (X-Road's, ig-xlb §3.4): whether it is on and where, what it answers
 * now and why, each check, and the maintenance mode a system administrator switches before taking the node out.
 */
export function HealthCheckCard() {
  const t = useT('diagnostics')
  const { health, healthError, loadHealth, setMaintenanceMode } = useDiagnosticsStore()
  const session = useSessionStore((s) => s.session)
  const mayMaintain = session?.roles.includes('system-administrator') === true
  useEffect(() => {
    void loadHealth()
  }, [loadHealth])
  return (
    <Card withBorder data-testid="health-check">
      <Group justify="space-between" align="flex-start" wrap="wrap" mb="xs">
        <div style={{ flex: '1 1 20rem' }}>
          <Title order={4}>{t('health.title')}</Title>
          <Text size="sm" c="dimmed">{t('health.hint')}</Text>
        </div>
        <Button variant="default" onClick={() => void loadHealth()}>{t('health.refresh')}</Button>
      </Group>
      {healthError ? <ErrorNotice error={healthError} /> : null}
      {health === null ? null : !health.enabled ? (
        <Text size="sm">{t('health.off')}</Text>
      ) : (
        <Stack gap="sm">
          <Group gap="sm" wrap="wrap">
            <StatusLight light={LIGHT_OF[health.httpStatus]} text={t(`health.answer.${health.httpStatus}`)} />
            <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
              {health.url === null ? t('health.notListening', { address: health.address ?? '' }) : t('health.listening', { url: health.url })}
            </Text>
          </Group>
          {health.message !== '' ? (
            <Text size="sm">{t('health.body')} <Code style={{ overflowWrap: 'anywhere' }}>{health.message}</Code></Text>
          ) : null}
          {health.checks.length > 0 ? (
            <Table.ScrollContainer minWidth={560}>
              <Table aria-label={t('health.checksLabel')}>
                <Table.Thead>
                  <Table.Tr><Table.Th>{t('health.check')}</Table.Th><Table.Th>{t('health.result')}</Table.Th><Table.Th>{t('health.checkedAt')}</Table.Th></Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {health.checks.map((c) => (
                    <Table.Tr key={c.name}>
                      <Table.Td>{t(`health.checks.${c.name}`)}</Table.Td>
                      <Table.Td>
                        <Group gap="xs" wrap="wrap">
                          <StatusLight light={c.ok ? 'green' : 'red'} text={t(c.ok ? 'health.ok' : 'health.failed')} />
                          {c.ok ? null : <Code style={{ overflowWrap: 'anywhere' }}>{c.message}</Code>}
                        </Group>
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(c.checkedAt, { timeStyle: 'medium' })}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          ) : null}
          <Switch
            checked={health.maintenanceMode}
            disabled={!mayMaintain}
            onChange={(e) => void setMaintenanceMode(e.currentTarget.checked)}
            label={t('health.maintenance')}
            description={mayMaintain ? t('health.maintenanceHint') : t('health.maintenanceRole')}
          />
        </Stack>
      )}
    </Card>
  )
}
