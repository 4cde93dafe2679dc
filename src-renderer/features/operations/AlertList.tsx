import { Badge, Button, Group, Loader, Paper, Stack, Text } from '@mantine/core'
import type { AlertDto } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useRouterStore } from '../../app/router-store'
import { useSessionStore } from '../login/session-store'
import { alertAction, alertRoute, alertTitle } from './alert-texts'
import { useAlertsStore } from './alerts-store'

const SEVERITY_COLOR: Record<AlertDto['severity'], string> = { critical: 'red', warning: 'orange', info: 'blue' }

/** The observer reads; every other role may acknowledge (the server checks it too). */
export function mayAcknowledge(roles: readonly string[]): boolean {
  return roles.some((r) => r !== 'observer')
}

/**
 * The active alerts, most severe first, each with what happened, what to do, since when, who saw it, a button to the
 * page where it is fixed and one to acknowledge it; optionally those resolved in the last week.
 */
export function AlertList({ showResolved = false, onNavigate }: { showResolved?: boolean; onNavigate?: () => void }) {
  const t = useT('operations')
  const { active, resolved, loaded, loading, error } = useAlertsStore()
  if (!loaded && loading) return <Loader size="sm" aria-label={t('alerts.title')} />
  return (
    <Stack gap="sm" data-testid="alert-list">
      {error ? <ErrorNotice error={error} /> : null}
      {loaded && active.length === 0 ? <Text size="sm" c="dimmed">{t('alerts.none')}</Text> : null}
      {active.map((alert) => <AlertItem key={alert.id} alert={alert} onNavigate={onNavigate} />)}
      {showResolved && resolved.length > 0 ? (
        <>
          <Text size="sm" fw={600} mt="sm">{t('alerts.history')}</Text>
          {resolved.map((alert) => <AlertItem key={`${alert.id}-${alert.raisedAt}`} alert={alert} onNavigate={onNavigate} />)}
        </>
      ) : null}
    </Stack>
  )
}

function AlertItem({ alert, onNavigate }: { alert: AlertDto; onNavigate?: (() => void) | undefined }) {
  const t = useT('operations')
  const { acknowledge, acknowledging } = useAlertsStore()
  const roles = useSessionStore((s) => s.session?.roles ?? [])
  const navigate = useRouterStore((r) => r.navigate)
  const cleared = alert.clearedAt !== null
  return (
    <Paper withBorder radius="md" p="sm" data-testid="alert-item" data-alert-id={alert.id} data-code={alert.code} style={cleared ? { opacity: 0.75 } : undefined}>
      <Group justify="space-between" align="flex-start" gap="xs" wrap="nowrap">
        <Stack gap={4} style={{ minWidth: 0, flex: 1 }}>
          <Group gap="xs" wrap="wrap">
            <Badge color={cleared ? 'gray' : SEVERITY_COLOR[alert.severity]} variant={cleared ? 'light' : 'filled'} styles={{ label: { overflow: 'visible' } }}>
              {t(`alerts.severity.${alert.severity}`)}
            </Badge>
            <Text fw={600} size="sm">{alertTitle(alert)}</Text>
          </Group>
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{alertAction(alert)}</Text>
          <Text size="xs" c="dimmed">
            {cleared ? t('alerts.clearedAt', { time: formatDateTime(alert.clearedAt as string) }) : t('alerts.raisedAt', { time: formatDateTime(alert.raisedAt) })}
            {alert.acknowledgedAt !== null ? ` · ${t('alerts.acknowledged', { who: alert.acknowledgedBy ?? '', time: formatDateTime(alert.acknowledgedAt) })}` : ''}
          </Text>
        </Stack>
        {cleared ? null : (
          <Stack gap={6} align="stretch" style={{ flexShrink: 0 }}>
            <Button size="xs" variant="light" onClick={() => { navigate(alertRoute(alert)); onNavigate?.() }}>{t('alerts.fix')}</Button>
            {alert.acknowledgedAt === null && mayAcknowledge(roles) ? (
              <Button size="xs" variant="default" loading={acknowledging === alert.id} onClick={() => void acknowledge(alert.id)}>{t('alerts.acknowledge')}</Button>
            ) : null}
          </Stack>
        )}
      </Group>
    </Paper>
  )
}
