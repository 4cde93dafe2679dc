import { useEffect, useState, type FormEvent } from 'react'
import { Alert, Button, Card, Checkbox, Group, NumberInput, PasswordInput, Select, Stack, Switch, Text, TextInput, Title } from '@mantine/core'
import type { AlertSettings, AlertSettingsInput } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError } from '../../lib/field-error'
import { useSessionStore } from '../login/session-store'
import { deliveryText, useAlertsStore } from './alerts-store'

interface Draft {
  webhookEnabled: boolean
  url: string
  secret: string
  removeSecret: boolean
  syslogEnabled: boolean
  host: string
  port: number | string
  protocol: 'udp' | 'tcp'
  facility: number | string
  diskDays: number | string
}

function draftOf(s: AlertSettings): Draft {
  return {
    webhookEnabled: s.webhook.enabled, url: s.webhook.url, secret: '', removeSecret: false, syslogEnabled: s.syslog.enabled, host: s.syslog.host,
    port: s.syslog.port, protocol: s.syslog.protocol, facility: s.syslog.facility, diskDays: s.diskDaysThreshold,
  }
}

/** What changed, as the API takes it (a secret only when one was typed or removed). */
export function settingsInput(d: Draft): AlertSettingsInput {
  return {
    webhook: { enabled: d.webhookEnabled, url: d.url.trim(), ...(d.removeSecret ? { secret: '' } : d.secret !== '' ? { secret: d.secret } : {}) },
    syslog: { enabled: d.syslogEnabled, host: d.host.trim(), port: Number(d.port), protocol: d.protocol, facility: Number(d.facility) },
    diskDaysThreshold: Number(d.diskDays),
  }
}

/**
 * Where alerts go besides the GUI: an outbound webhook (JSON POST, HMAC-signed with a secret) and syslog (RFC 5424 over
 * UDP or TCP), the disk-forecast threshold, a test delivery and the outcome of the last delivery to each channel.
 */
export function AlertSettingsCard() {
  const t = useT('operations')
  const { settings, settingsError, saving, saved, testing, loadSettings, saveSettings, testDelivery } = useAlertsStore()
  const roles = useSessionStore((s) => s.session?.roles ?? [])
  const mayRead = roles.includes('system-administrator') || roles.includes('security-officer')
  const mayChange = roles.includes('system-administrator')
  const [draft, setDraft] = useState<Draft | null>(null)
  useEffect(() => {
    if (mayRead) void loadSettings()
  }, [mayRead, loadSettings])
  useEffect(() => {
    if (settings !== null) setDraft(draftOf(settings))
  }, [settings])
  const s = 'alerts.settings'
  const error = (field: string): string | undefined => fieldError(settingsError, field) ?? undefined
  const set = (patch: Partial<Draft>): void => setDraft((d) => (d === null ? d : { ...d, ...patch }))
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault()
    if (draft !== null) await saveSettings(settingsInput(draft))
  }
  return (
    <Card withBorder radius="md" padding="lg" data-testid="alert-settings">
      <Title order={4} mb="xs">{t(`${s}.title`)}</Title>
      <Text size="sm" c="dimmed" mb="sm">{t(`${s}.intro`)}</Text>
      {!mayChange ? <Text size="xs" c="dimmed" mb="sm">{t(`${s}.readOnly`)}</Text> : null}
      {draft === null ? null : (
        <Stack component="form" gap="sm" onSubmit={(e) => void submit(e)}>
          <fieldset disabled={!mayChange} style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
            <Stack gap="sm">
              <Text fw={600} size="sm">{t(`${s}.webhook`)}</Text>
              <Switch label={t(`${s}.webhookOn`)} checked={draft.webhookEnabled} onChange={(e) => set({ webhookEnabled: e.currentTarget.checked })} />
              <TextInput label={t(`${s}.url`)} value={draft.url} onChange={(e) => set({ url: e.currentTarget.value })} error={error('webhook.url')} />
              <PasswordInput
                label={t(`${s}.secret`)} value={draft.secret} onChange={(e) => set({ secret: e.currentTarget.value, removeSecret: false })} autoComplete="off"
                description={settings?.webhook.secretSet ? t(`${s}.secretSet`) : t(`${s}.secretHelp`)} error={error('webhook.secret')}
              />
              {settings?.webhook.secretSet ? <Checkbox label={t(`${s}.removeSecret`)} checked={draft.removeSecret} onChange={(e) => set({ removeSecret: e.currentTarget.checked, secret: '' })} /> : null}
              <Text fw={600} size="sm" mt="xs">{t(`${s}.syslog`)}</Text>
              <Switch label={t(`${s}.syslogOn`)} checked={draft.syslogEnabled} onChange={(e) => set({ syslogEnabled: e.currentTarget.checked })} />
              <Group grow align="flex-start" wrap="wrap">
                <TextInput label={t(`${s}.host`)} value={draft.host} onChange={(e) => set({ host: e.currentTarget.value })} error={error('syslog.host')} miw={160} />
                <NumberInput label={t(`${s}.port`)} value={draft.port} onChange={(v) => set({ port: v })} min={1} max={65535} error={error('syslog.port')} miw={100} />
              </Group>
              <Group grow align="flex-start" wrap="wrap">
                <Select label={t(`${s}.protocol`)} value={draft.protocol} allowDeselect={false} data={[{ value: 'udp', label: 'UDP' }, { value: 'tcp', label: 'TCP' }]} onChange={(v) => set({ protocol: v === 'tcp' ? 'tcp' : 'udp' })} miw={100} />
                <NumberInput label={t(`${s}.facility`)} value={draft.facility} onChange={(v) => set({ facility: v })} min={0} max={23} error={error('syslog.facility')} miw={160} />
              </Group>
              <NumberInput label={t(`${s}.disk`)} value={draft.diskDays} onChange={(v) => set({ diskDays: v })} min={1} max={365} error={error('diskDaysThreshold')} />
            </Stack>
          </fieldset>
          {settingsError !== null && ['webhook.url', 'webhook.secret', 'syslog.host', 'syslog.port', 'syslog.facility', 'diskDaysThreshold'].every((f) => error(f) === undefined)
            ? <ErrorNotice error={settingsError} /> : null}
          {saved ? <Alert color="green" role="status" py="xs">{t(`${s}.saved`)}</Alert> : null}
          {settings?.lastDeliveries.map((d) => (
            <Text key={d.channel} size="xs" c={d.ok ? 'dimmed' : 'red'} data-testid={`delivery-${d.channel}`}>{deliveryText(d, formatDateTime(d.at, { timeStyle: 'medium' }))}</Text>
          ))}
          {mayChange ? (
            <Group justify="flex-end" gap="sm">
              <Button variant="default" loading={testing} onClick={() => void testDelivery()} disabled={!settings?.webhook.enabled && !settings?.syslog.enabled}>{t(`${s}.test`)}</Button>
              <Button type="submit" loading={saving}>{t(`${s}.save`)}</Button>
            </Group>
          ) : null}
        </Stack>
      )}
    </Card>
  )
}
