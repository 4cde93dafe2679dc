import { Fragment, useState, type FormEvent } from 'react'
import { Badge, Button, Card, Group, Modal, PasswordInput, Stack, Text, Title } from '@mantine/core'
import type { ReadinessCheck, SystemStatus } from '@shared/admin-api/admin-api'
import { formatDateTime, hasTranslation, translate, useT } from '../../i18n'
import { StatusLight } from '../../lib/StatusLight'
import { useRouterStore, type Route } from '../../app/router-store'
import { adminClient } from '../../lib/admin-client'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useDashboardStore } from './dashboard-store'

type FixRoute = Extract<Route, 'global-conf' | 'settings' | 'keys' | 'services' | 'setup' | 'message-log'>

/** Where each area's problem is fixed. */
export const FIX_ROUTE: Record<ReadinessCheck['key'], FixRoute> = {
  configuration: 'global-conf',
  listeners: 'settings',
  authentication: 'keys',
  signing: 'keys',
  registration: 'services',
  timestamping: 'global-conf',
  evidence: 'message-log',
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
  if (check.key === 'evidence' && typeof params.kind === 'string') params.problem = translate(`dashboard:evidenceProblems.${params.kind}`)
  const code = check.code === 'timestamping-failing' && check.params.stopsAt === '' ? 'timestamping-failing-no-stop'
    : (check.code === 'evidence-gap' || check.code === 'evidence-broken') && check.params.refusing === 'no' ? `${check.code}-flowing`
      : check.code
  const key = `dashboard:codes.${code}`
  return hasTranslation(key) || hasTranslation(`${key}_other`) ? translate(key, params) : check.message
}

/**
 * "Can messages flow?": one line per area (configuration, listeners, authentication, signing, registration,
 * time-stamping, evidence continuity) with its light, what is wrong in plain words, and a button to the page where it is fixed.
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
              {typeof check.params.tokenId === 'string' && check.params.tokenId !== '' && check.code.endsWith('token-logged-out') ? (
                <TokenLoginButton tokenId={check.params.tokenId} token={String(check.params.token ?? '')} />
              ) : check.light === 'red' || check.light === 'yellow' ? (
                <Button size="xs" variant="light" onClick={() => navigate(route)}>{t(`fix.${route}`)}</Button>
              ) : <span />}
            </Fragment>
          )
        })}
      </div>
    </Card>
  )
}

/** The fix for a logged-out token right where the problem is shown: its PIN, then the runtime starts serving. */
function TokenLoginButton({ tokenId, token }: { tokenId: string; token: string }) {
  const t = useT('dashboard')
  const refresh = useDashboardStore((s) => s.refresh)
  const [opened, setOpened] = useState(false)
  const [pin, setPin] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const close = (): void => {
    setOpened(false)
    setPin('')
    setError(null)
  }
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await adminClient().call('tokens', 'login', { tokenId, pin })
      close()
      await refresh()
    } catch (failure) {
      setError(failure)
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      <Button size="xs" onClick={() => setOpened(true)}>{t('login.button', { token })}</Button>
      <Modal opened={opened} onClose={close} title={t('login.title', { token })} centered>
        <Stack component="form" gap="sm" onSubmit={(e) => void submit(e)}>
          <PasswordInput label={t('login.pin')} value={pin} onChange={(e) => setPin(e.currentTarget.value)} autoComplete="off" data-autofocus />
          {error !== null ? <ErrorNotice error={error} /> : null}
          <Group justify="flex-end"><Button type="submit" loading={busy} disabled={pin === ''}>{t('login.submit')}</Button></Group>
        </Stack>
      </Modal>
    </>
  )
}
