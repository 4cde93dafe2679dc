import { useState, type ReactNode } from 'react'
import { Alert, Badge, Button, Card, Group, Stack, Table, Text } from '@mantine/core'
import type { ClientDto } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { AddClientForm } from './AddClientForm'
import { ClientConnectionDialog } from './ClientConnectionDialog'
import { ClientStateBadge, FULL_BADGE, IdText, useSubjectName } from './ServicesParts'
import { clientDependents, shortId, useServicesStore } from './services-store'

/**
 * The clients of this server (UG-SS §4): registration state with the actions that state allows (register, disable,
 * enable, unregister, delete — X-Road ClientService's rules), the information-system connection, and adding a subsystem.
 */
export function ClientsPanel() {
  const t = useT('services')
  const s = useServicesStore()
  const [connection, setConnection] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const open = s.clients.find((c) => c.id === connection)
  return (
    <Stack gap="md">
      {s.notice !== null ? (
        <Alert color={s.notice.approval === 'lab' ? 'green' : 'blue'} withCloseButton onClose={s.clearNotice} closeButtonLabel={t('notice.dismiss')} role="status">
          {t(`notice.${s.notice.kind}.${s.notice.approval === 'lab' ? 'lab' : 'central'}`, { client: s.notice.client })}
        </Alert>
      ) : null}
      {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      <Card withBorder>
        <Table.ScrollContainer minWidth={640}>
          <Table aria-label={t('clients.table')} verticalSpacing="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('clients.client')}</Table.Th>
                <Table.Th>{t('clients.state')}</Table.Th>
                <Table.Th>{t('clients.connection')}</Table.Th>
                <Table.Th><span className="sr-only">{t('actionsColumn')}</span></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {s.clients.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td maw={280}>
                    <IdText id={c.id} />
                    <Group gap={6}>
                      {c.name !== null ? <Text size="xs" c="dimmed">{c.name}</Text> : null}
                      {c.owner ? <Badge size="xs" variant="outline" styles={FULL_BADGE}>{t('clients.owner')}</Badge> : null}
                    </Group>
                  </Table.Td>
                  <Table.Td><ClientStateBadge state={c.state} /></Table.Td>
                  <Table.Td>
                    <Text size="sm">{t(`connection.mode.${c.isAuthentication}`)}</Text>
                    <Button size="compact-xs" variant="subtle" px={0} onClick={() => setConnection(c.id)} aria-label={t('clients.connectionAria', { client: c.path })}>
                      {t('clients.connectionButton')}
                    </Button>
                  </Table.Td>
                  <Table.Td><ClientActions client={c} onError={setError} /></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
      <Card withBorder><AddClientForm /></Card>
      {open !== undefined ? <ClientConnectionDialog client={open} onClose={() => setConnection(null)} /> : null}
    </Stack>
  )
}

function ClientActions({ client, onError }: { client: ClientDto; onError(error: unknown): void }) {
  const t = useT('services')
  const s = useServicesStore()
  const [busy, setBusy] = useState(false)
  if (client.owner) return <Text size="xs" c="dimmed" maw={220}>{t('clients.ownerNote')}</Text>
  const run = (work: () => Promise<unknown>): void => {
    setBusy(true)
    onError(null)
    work().catch(onError).finally(() => setBusy(false))
  }
  const actions: ReactNode[] = []
  // Disabled and no longer listed on this server by global configuration: the instance completed its deletion.
  const removed = client.state === 'DISABLED' && client.listedOnThisServer === false
  if (client.state === 'SAVED') {
    actions.push(<Button key="register" size="xs" loading={busy} onClick={() => run(() => s.register(client.id))} aria-label={t('clients.registerAria', { client: client.path })}>{t('clients.register')}</Button>)
  }
  if (client.state === 'DISABLED' && !removed) {
    actions.push(<Button key="enable" size="xs" variant="light" loading={busy} onClick={() => run(() => s.setClientEnabled(client.id, true))} aria-label={t('clients.enableAria', { client: client.path })}>{t('clients.enable')}</Button>)
  }
  if (client.state === 'REGISTERED') {
    actions.push(
      <ConfirmAction
        key="disable"
        label={t('clients.disable')}
        ariaLabel={t('clients.disableAria', { client: client.path })}
        buttonProps={{ color: 'orange' }}
        title={t('clients.disableTitle', { client: client.path })}
        consequences={<Text size="sm">{t('clients.disableBody', { client: client.path })}</Text>}
        confirmLabel={t('clients.disable')}
        onConfirm={() => s.setClientEnabled(client.id, false)}
      />,
    )
  }
  if (client.state === 'REGISTERED' || client.state === 'REGISTRATION_IN_PROGRESS' || (client.state === 'DISABLED' && !removed)) {
    actions.push(
      <ConfirmAction
        key="unregister"
        label={t('clients.unregister')}
        ariaLabel={t('clients.unregisterAria', { client: client.path })}
        title={t('clients.unregisterTitle', { client: client.path })}
        consequences={<Consequences items={[t('clients.unregisterBody', { client: client.path }), t('clients.unregisterAfter')]} />}
        confirmLabel={t('clients.unregister')}
        onConfirm={() => s.unregister(client.id)}
      />,
    )
  }
  if (removed) actions.push(<Text key="removed" size="xs" c="dimmed" maw={220}>{t('clients.removedNote')}</Text>)
  if (client.state === 'SAVED' || client.state === 'DELETION_IN_PROGRESS' || removed) {
    actions.push(
      <ConfirmAction
        key="delete"
        label={t('clients.delete')}
        ariaLabel={t('clients.deleteAria', { client: client.path })}
        title={t('clients.deleteTitle', { client: client.path })}
        consequences={<DeleteClientConsequences client={client} />}
        confirmLabel={t('clients.deleteConfirm')}
        onConfirm={() => s.deleteClient(client.id)}
      />,
    )
  }
  return <Group gap={6} wrap="wrap">{actions}</Group>
}

/** Everything that goes with the client, and who loses access (the server removes the same). */
function DeleteClientConsequences({ client }: { client: ClientDto }) {
  const t = useT('services')
  const s = useServicesStore()
  const name = useSubjectName()
  const d = clientDependents(s, client.id)
  const losers = [...new Set(d.rights.map(name))]
  const items: ReactNode[] = [t('clients.deleteBody', { client: client.path })]
  items.push(d.services.length === 0 ? t('clients.deleteNoServices') : t('clients.deleteServices', { count: d.services.length, list: d.services.map((x) => x.serviceCode).join(', ') }))
  if (losers.length > 0) items.push(t('clients.deleteLosers', { count: losers.length, list: losers.join('; ') }))
  if (d.groups.length > 0) items.push(t('clients.deleteGroups', { count: d.groups.length, list: d.groups.map((g) => g.groupCode).join(', ') }))
  items.push(t('clients.deleteCertificates'))
  if (d.rightsAsSubject.length > 0 || d.memberships.length > 0) {
    const lost = [...new Set(d.rightsAsSubject.map((r) => `${r.serviceCode} (${shortId(r.provider)})`))]
    const groups = d.memberships.map((g) => `${g.groupCode} (${shortId(g.owner)})`)
    items.push(t('clients.deleteAsSubject', { services: lost.join(', ') || '–', groups: groups.join(', ') || '–' }))
  }
  return <Consequences items={items} />
}
