import { Fragment } from 'react'
import { Badge, Button, Card, Group, Text, Title } from '@mantine/core'
import type { ReadinessCheck, SystemStatus } from '@shared/admin-api/admin-api'
import { formatDateTime, hasTranslation, translate, useT } from '../../i18n'
import { StatusLight } from '../../lib/StatusLight'
import { useRouterStore, type Route } from '../../app/router-store'

type FixRoute = Extract<Route, 'global-conf' | 'settings' | 'keys' | 'services' | 'setup'>

/** Where each area's problem is fixed. */
const FIX_ROUTE: Record<ReadinessCheck['key'], FixRoute> = {
  configuration: 'global-conf',
  listeners: 'settings',
  authentication: 'keys',
  signing: 'keys',
  registration: 'services',
  timestamping: 'global-conf',
}

/** The check's text in the language shown, with its parameters made readable (times, states, listener names). */
export function readinessText(check: ReadinessCheck): string {
  const params: Record<string, string | number> = { ...check.params }
  for (const [name, value] of Object.entries(params)) {
    if (name.endsWith('At') && typeof value === 'string' && value !== '') params[name] = formatDateTime(value)
  }
  if (typeof params.state === 'string') params.state = translate(`dashboard:certStates.${params.state}`)
  if (typeof params.listener === 'string') params.listener = translate(`dashboard:listeners.names.${params.listener}`)
  if (check.params.daysLeft !== undefined) params.count = check.params.daysLeft
  const code = check.code === 'timestamping-failing' && check.params.stopsAt === '' ? 'timestamping-failing-no-stop' : check.code
  const key = `dashboard:codes.${code}`
  return hasTranslation(key) || hasTranslation(`${key}_other`) ? translate(key, params) : check.message
}

/**
 * "Can messages flow?": one line per area (configuration, listeners, authentication, signing, registration,
 * time-stamping) with its light, what is wrong in plain words, and a button to the page where it is fixed.
 */
export function ReadinessCard({ status }: { status: SystemStatus }) {
  const t = useT('dashboard')
  const navigate = useRouterStore((r) => r.navigate)
  const { checks, ready } = status.readiness
  return (
    <Card withBorder radius="md" padding="lg" data-testid="readiness">
      <Group justify="space-between" mb="sm" wrap="wrap">
        <Title order={4}>{t('traffic.title')}</Title>
        {checks.length === 0 ? <Badge color="gray" variant="light" size="lg">{t('traffic.waiting')}</Badge> : (
          <Badge color={ready ? 'green' : 'red'} variant="filled" size="lg" styles={{ label: { overflow: 'visible' } }} data-testid="traffic-ready">
            {ready ? t('traffic.ready') : t('traffic.notReady')}
          </Badge>
        )}
      </Group>
      {/* One grid for every row, so the lights, texts and buttons line up whatever the language's word lengths. */}
      <div style={{ display: 'grid', gridTemplateColumns: 'max-content minmax(0, 1fr) max-content', columnGap: 16, rowGap: 12, alignItems: 'start' }}>
        {checks.map((check) => {
          const route: FixRoute = check.code === 'not-initialized' ? 'setup' : FIX_ROUTE[check.key]
          return (
            <Fragment key={check.key}>
              <StatusLight light={check.light} />
              <div data-testid={`readiness-${check.key}`} data-code={check.code}>
                <Text fw={600} size="sm">{t(`areas.${check.key}`)}</Text>
                <Text size="sm" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{readinessText(check)}</Text>
              </div>
              {check.light === 'red' || check.light === 'yellow' ? (
                <Button size="xs" variant="light" onClick={() => navigate(route)}>{t(`fix.${route}`)}</Button>
              ) : <span />}
            </Fragment>
          )
        })}
      </div>
    </Card>
  )
}
