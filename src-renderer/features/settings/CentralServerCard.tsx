import { useCallback, useEffect, useState, type FormEvent } from 'react'
import { Alert, Badge, Button, Card, Group, Stack, Text, TextInput, Title } from '@mantine/core'
import type { GlobalServerDto } from '@shared/admin-api/admin-api'
import type { ManagementRequestDto } from '@shared/admin-api/management-api'
import { useT } from '../../i18n'
import { adminClient } from '../../lib/admin-client'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError } from '../../lib/field-error'
import { ConfigurationEdit } from '../../lib/read-only'

/**
 * This server as the central server knows it (ug-ss §10.1 address change, §10.2 maintenance mode; X-Road 7.8's
 * SecurityServerAddressService and MaintenanceModeService): the address and maintenance mode global configuration
 * publishes, the management requests that change them, and the open request with its id until global configuration
 * shows the change.
 */
export function CentralServerCard() {
  const t = useT('settings')
  const [server, setServer] = useState<GlobalServerDto | null>(null)
  const [pending, setPending] = useState<ManagementRequestDto[]>([])
  const [address, setAddress] = useState('')
  const [message, setMessage] = useState('')
  const [busy, setBusy] = useState<'address' | 'maintenance' | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [sent, setSent] = useState<number | null | undefined>(undefined)

  const load = useCallback(async (): Promise<void> => {
    const api = adminClient()
    const [status, servers, requests] = await Promise.all([
      api.call('initialization', 'status'), api.call('globalConf', 'servers'), api.call('management', 'requests', { subject: 'server', openOnly: true }),
    ])
    setServer(servers.find((s) => s.id === status.serverId) ?? null)
    setPending(requests)
  }, [])
  useEffect(() => {
    load().catch(setError)
  }, [load])

  const send = (what: 'address' | 'maintenance', work: () => Promise<{ requestId: number | null }>): void => {
    setBusy(what)
    setError(null)
    setSent(undefined)
    work()
      .then(async (result) => {
        setSent(result.requestId)
        if (what === 'address') setAddress('')
        await load()
      })
      .catch(setError)
      .finally(() => setBusy(null))
  }
  const changeAddress = (event: FormEvent): void => {
    event.preventDefault()
    send('address', () => adminClient().call('management', 'changeAddress', { address: address.trim() }))
  }
  const maintenanceOn = server?.inMaintenanceMode === true
  const toggleMaintenance = (): void => {
    send('maintenance', () => maintenanceOn
      ? adminClient().call('management', 'disableMaintenanceMode', {})
      : adminClient().call('management', 'enableMaintenanceMode', message.trim() === '' ? {} : { message: message.trim() }))
  }
  const addressError = fieldError(error, 'address')
  return (
    <Card withBorder data-testid="central-server">
      <Title order={3}>{t('central.title')}</Title>
      <Text c="dimmed" size="sm" mb="sm">{t('central.intro')}</Text>
      <Stack gap="sm">
        {sent !== undefined ? <Alert color="blue" role="status">{t('central.sent', { id: sent ?? '–' })}</Alert> : null}
        {error !== null && addressError === undefined ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        {server === null ? <Text size="sm" c="dimmed">{t('central.notListed')}</Text> : (
          <Group gap="lg">
            <Text size="sm">{t('central.address', { address: server.address ?? '–' })}</Text>
            <Group gap={6}>
              <Text size="sm">{t('central.maintenance')}</Text>
              <Badge variant="light" color={maintenanceOn ? 'orange' : 'green'} styles={{ root: { maxWidth: 'none' } }}>{maintenanceOn ? t('central.on') : t('central.off')}</Badge>
            </Group>
          </Group>
        )}
        {pending.map((r) => (
          <Text key={r.id} size="sm" c="dimmed">{t(`central.progress.${progressKey(r.service)}`, { id: r.requestId ?? '–', detail: r.detail ?? '' })}</Text>
        ))}
        <ConfigurationEdit>
          <form onSubmit={changeAddress} aria-label={t('central.addressForm')}>
            <Group align="flex-end" gap="sm">
              <TextInput label={t('central.newAddress')} description={t('central.newAddressHint')} value={address} maxLength={255}
                onChange={(e) => setAddress(e.currentTarget.value)} error={addressError} style={{ flex: 1, minWidth: 240 }} />
              <Button type="submit" loading={busy === 'address'} disabled={address.trim() === '' || server === null}>{t('central.changeAddress')}</Button>
            </Group>
          </form>
        </ConfigurationEdit>
        <Group align="flex-end" gap="sm">
          {maintenanceOn ? null : (
            <TextInput label={t('central.message')} description={t('central.messageHint')} value={message} maxLength={1000}
              onChange={(e) => setMessage(e.currentTarget.value)} style={{ flex: 1, minWidth: 240 }} />
          )}
          <Button variant={maintenanceOn ? 'filled' : 'light'} color="orange" loading={busy === 'maintenance'} disabled={server === null} onClick={toggleMaintenance}>
            {maintenanceOn ? t('central.disableMaintenance') : t('central.enableMaintenance')}
          </Button>
        </Group>
      </Stack>
    </Card>
  )
}

function progressKey(service: ManagementRequestDto['service']): 'addressChange' | 'maintenanceModeEnable' | 'maintenanceModeDisable' | 'other' {
  return service === 'addressChange' || service === 'maintenanceModeEnable' || service === 'maintenanceModeDisable' ? service : 'other'
}
