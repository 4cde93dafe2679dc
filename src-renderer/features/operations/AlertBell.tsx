import { useState } from 'react'
import { ActionIcon, Button, Indicator, Popover, ScrollArea, Stack, Text } from '@mantine/core'
import { useT } from '../../i18n'
import { useRouterStore } from '../../app/router-store'
import { AlertList } from './AlertList'
import { unacknowledged, useAlertsStore } from './alerts-store'

/** A bell outline (decorative: the button's label says what it is). */
function BellIcon() {
  return (
    <svg aria-hidden width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
      <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
      <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
    </svg>
  )
}

/**
 * The header's alert bell: how many alerts nobody has acknowledged yet (red when one is critical), and the list of
 * active alerts with what to do, read again each time it opens.
 */
export function AlertBell() {
  const t = useT('operations')
  const { active, load } = useAlertsStore()
  const navigate = useRouterStore((r) => r.navigate)
  const [opened, setOpened] = useState(false)
  const waiting = unacknowledged(active)
  const color = active.some((a) => a.severity === 'critical') ? 'red' : active.some((a) => a.severity === 'warning') ? 'orange' : 'blue'
  const label = waiting.length === 0 ? t('alerts.bell') : t('alerts.bellCount', { count: waiting.length })
  return (
    <Popover opened={opened} onChange={setOpened} width={440} position="bottom-end" shadow="md" withArrow trapFocus>
      <Popover.Target>
        <Indicator label={waiting.length} size={18} color={color} disabled={waiting.length === 0} offset={4}>
          <ActionIcon
            variant={active.length > 0 ? 'light' : 'subtle'} color={active.length > 0 ? color : 'gray'} size="lg" aria-label={label} title={label}
            data-testid="alert-bell"
            onClick={() => {
              if (!opened) void load()
              setOpened((o) => !o)
            }}
          >
            <BellIcon />
          </ActionIcon>
        </Indicator>
      </Popover.Target>
      <Popover.Dropdown data-testid="alert-popover">
        <Stack gap="sm">
          <Text fw={700}>{t('alerts.title')}</Text>
          <ScrollArea.Autosize mah={460} type="auto" offsetScrollbars>
            <AlertList onNavigate={() => setOpened(false)} />
          </ScrollArea.Autosize>
          <Button variant="subtle" size="xs" onClick={() => { setOpened(false); navigate('operations') }}>{t('alerts.all')}</Button>
        </Stack>
      </Popover.Dropdown>
    </Popover>
  )
}
