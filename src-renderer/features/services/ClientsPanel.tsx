import { useState, type ReactNode } from 'react'
import { Alert, Badge, Button, Card, Group, Stack, Table, Text, TextInput } from '@mantine/core'
import type { ClientDto } from '@shared/admin-api/admin-api'
import type { ManagementRequestDto } from '@shared/admin-api/management-api'
import { useT } from '../../i18n'
import { AdminError } from '../../lib/admin-client'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError as fieldErrorOf } from '../../lib/field-error'
import { AddClientForm } from './AddClientForm'
import { ClientConnectionDialog } from './ClientConnectionDialog'
import { ClientStateBadge, FULL_BADGE, IdText, useSubjectName } from './ServicesParts'
import { clientDependents, openOwnerChangeFor, openRequestOf, shortId, useServicesStore } from './services-store'
import { ConfigurationEdit, EditButton } from '../../lib/read-only'

/**
 * The clients of this server (UG-SS §4): registration state with the actions that state allows (register, disable,
 * enable, unregister, rename, delete — X-Road ClientService's rules), the information-system connection, and adding a
 * subsystem. Register, unregister, disable, enable, rename and "Make owner" (ownerChange, for a registered member) are
 * pr-mserv management requests to the central server: the row shows the request id and what it waits for until global
 * configuration confirms it; DISABLING and ENABLING_IN_PROGRESS exist only as open requests (X-Road derives them the
 * same way). The subsystem serving the instance's management services is neither disabled (X-Road's
 * `forbiddenDisable`) nor unregistered from here: every management request goes to it.
 */
export function ClientsPanel() {
  const t = useT('services')
  const tl = useT('lab')
  const s = useServicesStore()
  const [connection, setConnection] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const open = s.clients.find((c) => c.id === connection)
  return (
    <Stack gap="md">
      {s.notice !== null ? (
        <Alert color="blue" withCloseButton onClose={s.clearNotice} closeButtonLabel={t('notice.dismiss')} role="status">
          {t(`notice.${s.notice.kind}`, { client: s.notice.client, id: s.notice.requestId ?? '–' })}
        </Alert>
      ) : null}
      {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      {unreachedManagementService(error) ? <Alert color="yellow" role="note">{t('unreached', { tab: tl('tabs.requests'), action: tl('requests.serve') })}</Alert> : null}
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
                  <Table.Td maw={260}><ClientState client={c} request={openRequestOf(s.requests, c.id) ?? openOwnerChangeFor(s.requests, c.id)} /></Table.Td>
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
      <ConfigurationEdit><Card withBorder><AddClientForm /></Card></ConfigurationEdit>
      {open !== undefined ? <ClientConnectionDialog client={open} onClose={() => setConnection(null)} /> : null}
    </Stack>
  )
}

/**
 * The request did not reach the management service: the client proxy refused it before sending (global configuration
 * names no management service, or its provider has no security server yet — a lab whose host does not serve them).
 */
function unreachedManagementService(error: unknown): boolean {
  return error instanceof AdminError && (error.code.startsWith('server.clientproxy.') || error.code === 'malformed_global_conf')
}

function ClientActions({ client, onError }: { client: ClientDto; onError(error: unknown): void }) {
  const t = useT('services')
  const s = useServicesStore()
  const [busy, setBusy] = useState(false)
  const [renaming, setRenaming] = useState(false)
  const pending = openRequestOf(s.requests, client.id)?.service
  const provider = s.managementProvider === client.id
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
    actions.push(<EditButton key="register" size="xs" loading={busy} onClick={() => run(() => s.manage('register', client.id))} aria-label={t('clients.registerAria', { client: client.path })}>{t('clients.register')}</EditButton>)
  }
  if (client.state === 'DISABLED' && !removed && pending !== 'clientEnable' && pending !== 'clientDeletion') {
    actions.push(<EditButton key="enable" size="xs" variant="light" loading={busy} onClick={() => run(() => s.manage('enable', client.id))} aria-label={t('clients.enableAria', { client: client.path })}>{t('clients.enable')}</EditButton>)
  }
  if (client.state === 'REGISTERED' && client.kind === 'SUBSYSTEM' && pending !== 'clientDeletion') {
    actions.push(
      <EditButton key="rename" size="xs" variant="light" onClick={() => setRenaming(true)} aria-label={t('clients.renameAria', { client: client.path })}>{t('clients.rename')}</EditButton>,
    )
  }
  // ClientService.changeOwner: a registered member; the central server takes one owner change of a server at a time.
  const ownerChangeOpen = s.requests.some((r) => r.service === 'ownerChange' && r.status === 'SUBMITTED')
  if (client.state === 'REGISTERED' && client.kind === 'MEMBER' && pending !== 'clientDeletion' && pending !== 'clientDisable' && !ownerChangeOpen) {
    const current = s.clients.find((c) => c.owner)?.path ?? ''
    actions.push(
      <ConfirmAction
        key="makeOwner"
        label={t('clients.makeOwner')}
        ariaLabel={t('clients.makeOwnerAria', { client: client.path })}
        buttonProps={{ color: 'orange' }}
        title={t('clients.makeOwnerTitle', { client: client.path })}
        consequences={<Consequences items={[t('clients.makeOwnerBody', { client: client.path }), t('clients.makeOwnerAfter', { owner: current, client: client.path })]} />}
        confirmLabel={t('clients.makeOwnerConfirm')}
        onConfirm={() => s.manage('makeOwner', client.id)}
      />,
    )
  }
  if (client.state === 'REGISTERED' && pending !== 'clientDisable' && pending !== 'clientDeletion' && !provider) {
    actions.push(
      <ConfirmAction
        key="disable"
        label={t('clients.disable')}
        ariaLabel={t('clients.disableAria', { client: client.path })}
        buttonProps={{ color: 'orange' }}
        title={t('clients.disableTitle', { client: client.path })}
        consequences={<Text size="sm">{t('clients.disableBody', { client: client.path })}</Text>}
        confirmLabel={t('clients.disable')}
        onConfirm={() => s.manage('disable', client.id)}
      />,
    )
  }
  if ((client.state === 'REGISTERED' || client.state === 'REGISTRATION_IN_PROGRESS' || (client.state === 'DISABLED' && !removed)) && pending !== 'clientDeletion' && !provider) {
    actions.push(
      <ConfirmAction
        key="unregister"
        label={t('clients.unregister')}
        ariaLabel={t('clients.unregisterAria', { client: client.path })}
        title={t('clients.unregisterTitle', { client: client.path })}
        consequences={<Consequences items={[t('clients.unregisterBody', { client: client.path }), t('clients.unregisterAfter')]} />}
        confirmLabel={t('clients.unregister')}
        onConfirm={() => s.manage('unregister', client.id)}
      />,
    )
  }
  if (removed) actions.push(<Text key="removed" size="xs" c="dimmed" maw={220}>{t('clients.removedNote')}</Text>)
  if (provider) actions.push(<Text key="provider" size="xs" c="dimmed" maw={240}>{t('clients.providerNote')}</Text>)
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
  return (
    <Stack gap={6}>
      <Group gap={6} wrap="wrap">{actions}</Group>
      {renaming ? <RenameForm client={client} onDone={() => setRenaming(false)} /> : null}
    </Stack>
  )
}

/** The registration state, or the open management request's progress with the central server's request id. */
function ClientState({ client, request }: { client: ClientDto; request: ManagementRequestDto | undefined }) {
  const t = useT('services')
  const derived = request?.service === 'clientDisable' ? 'DISABLING_IN_PROGRESS' : request?.service === 'clientEnable' ? 'ENABLING_IN_PROGRESS' : null
  return (
    <Stack gap={4}>
      {derived !== null
        ? <Badge variant="light" color="yellow" styles={FULL_BADGE}>{t(`progress.${derived}`)}</Badge>
        : <ClientStateBadge state={client.state} />}
      {request !== undefined && isClientRequest(request.service) ? (
        <Text size="xs" c="dimmed">{t(`progress.${request.service}`, { id: request.requestId ?? '–', name: request.detail ?? '' })}</Text>
      ) : null}
    </Stack>
  )
}

const CLIENT_REQUESTS = ['clientReg', 'clientDeletion', 'clientDisable', 'clientEnable', 'clientRename', 'ownerChange'] as const
function isClientRequest(service: string): service is (typeof CLIENT_REQUESTS)[number] {
  return (CLIENT_REQUESTS as readonly string[]).includes(service)
}

/** clientRename (X-Road 7.8): the subsystem's new name, sent to the central server. */
function RenameForm({ client, onDone }: { client: ClientDto; onDone(): void }) {
  const t = useT('services')
  const manage = useServicesStore((x) => x.manage)
  const [name, setName] = useState(client.name ?? '')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const fieldError = fieldErrorOf(error, 'subsystemName')
  const send = (): void => {
    setBusy(true)
    setError(null)
    manage('rename', client.id, name.trim()).then(onDone).catch(setError).finally(() => setBusy(false))
  }
  return (
    <form onSubmit={(e) => { e.preventDefault(); send() }}>
      <Stack gap={4}>
        <TextInput size="xs" label={t('clients.renameLabel', { client: client.path })} value={name} maxLength={255} onChange={(e) => setName(e.currentTarget.value)} error={fieldError} data-autofocus />
        {error !== null && fieldError === undefined ? <ErrorNotice error={error} /> : null}
        <Group gap={6}>
          <Button type="submit" size="xs" loading={busy} disabled={name.trim() === ''}>{t('clients.renameSend')}</Button>
          <Button size="xs" variant="subtle" onClick={onDone}>{t('clients.cancel')}</Button>
        </Group>
      </Stack>
    </form>
  )
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
