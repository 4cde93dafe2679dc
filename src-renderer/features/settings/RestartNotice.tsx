import { useState } from 'react'
import { Alert, Anchor, Group, Text } from '@mantine/core'
import type { SystemStatus } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ConfirmAction } from '../../lib/ConfirmAction'
import { adminClient } from '../../lib/admin-client'

/** How long the GUI waits for the restarted server before it says so. */
const RESTART_WAIT_MS = 60_000

/**
 * Settings of the bootstrap file that wait for a restart, and the button that restarts the server in place
 * (`system.restart`): the GUI then waits until the new server answers and reloads its data.
 */
export function RestartNotice({ restart, onRestarted, always = false }: { restart: SystemStatus['restart']; onRestarted(): void; always?: boolean }) {
  const t = useT('dashboard')
  const [phase, setPhase] = useState<'idle' | 'restarting' | 'done'>('idle')
  const [movedTo, setMovedTo] = useState<string | null>(null)
  if (!restart.required && phase === 'idle' && !(always && restart.supported)) return null
  const run = async (): Promise<void> => {
    const before = await adminClient().call('system', 'status')
    const moved = await newAdminAddress()
    await adminClient().call('system', 'restart')
    setPhase('restarting')
    // A browser on the old address cannot follow the server to its new one: offer the link instead of waiting.
    if (moved !== null) return setMovedTo(moved)
    await waitForRestart(before.startedAt)
    setPhase('done')
    onRestarted()
  }
  if (phase !== 'idle') {
    return (
      <Alert color={phase === 'done' ? 'green' : 'blue'} title={phase === 'done' ? t('restart.done') : t('restart.restarting')} role="status" data-testid="restart-progress">
        {movedTo === null ? null : <Text size="sm">{t('restart.newAddress')}<Anchor href={movedTo}>{movedTo}</Anchor></Text>}
      </Alert>
    )
  }
  return (
    <Alert color={restart.required ? 'yellow' : 'gray'} title={restart.required ? t('restart.required') : t('restartAny.title')} data-testid={restart.required ? 'restart-required' : 'restart-any'}>
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <div>
          <Text size="sm">{restart.required ? t('restart.requiredText', { fields: restart.reasons.join(', ') }) : t('restartAny.text')}</Text>
          {restart.supported ? null : <Text size="sm">{t('restart.notSupported')}</Text>}
        </div>
        {restart.supported ? (
          <ConfirmAction
            perNode
            label={t('restart.button')}
            title={t('restart.confirmTitle')}
            consequences={<Text size="sm">{t('restart.confirmText')}</Text>}
            confirmLabel={t('restart.button')}
            onConfirm={run}
            buttonProps={{ variant: restart.required ? 'filled' : 'default', color: restart.required ? 'yellow' : 'gray', size: 'sm' }}
          />
        ) : null}
      </Group>
    </Alert>
  )
}

/** Polls until a server started after `previousStart` answers (the old one answers until it stops). */
async function waitForRestart(previousStart: string | null): Promise<void> {
  const end = Date.now() + RESTART_WAIT_MS
  while (Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    try {
      const status = await adminClient().call('system', 'status')
      if (status.state === 'running' && status.startedAt !== previousStart) return
    } catch {
      // The admin listener is down while the server restarts.
    }
  }
}

/** Where the admin interface will listen after the restart, when that is not where this page came from (browser only). */
async function newAdminAddress(): Promise<string | null> {
  if (adminClient().transport !== 'browser' || typeof window === 'undefined') return null
  const settings = await adminClient().call('settings', 'bootstrap')
  if (!settings.pendingRestart.includes('adminPort') && !settings.pendingRestart.includes('internalHost')) return null
  const { internalHost, adminPort } = settings.values
  const host = internalHost === '0.0.0.0' || internalHost === '::' ? window.location.hostname : internalHost.includes(':') ? `[${internalHost}]` : internalHost
  return `https://${host}:${adminPort ?? ''}/`
}
