import { useState, type FormEvent } from 'react'
import { Badge, Button, Card, Code, FileButton, Group, Input, Modal, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core'
import type { LabServerDto } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError, isFieldError } from '../../lib/field-error'
import { readFileForUpload } from '../../lib/save-file'
import { clientOptions, idPath, memberOf, registrableCertificates, useLabAdminStore } from './lab-admin-store'

const WHOLE_BADGE = { root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible', textOverflow: 'clip' } } as const
const BREAK = { wordBreak: 'break-all' } as const

/** Registered security servers (X-Road CS "Security servers"): address, authentication certificates, clients; registration. */
export function LabServers({ canChange }: { canChange: boolean }) {
  const t = useT('lab', 'common')
  const servers = useLabAdminStore((s) => s.servers)
  return (
    <Stack gap="lg">
      <Title order={4}>{t('servers.title')}</Title>
      {servers.length === 0 ? <Text size="sm" c="dimmed">{t('servers.empty')}</Text> : servers.map((s) => <ServerCard key={s.id} server={s} canChange={canChange} />)}
      {canChange ? <RegisterServerCard /> : null}
    </Stack>
  )
}

function ServerCard({ server, canChange }: { server: LabServerDto; canChange: boolean }) {
  const t = useT('lab', 'common')
  const { members, act } = useLabAdminStore()
  const [editing, setEditing] = useState(false)
  const [client, setClient] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const name = idPath(server.id)
  const candidates = clientOptions(members).filter((o) => !server.clients.includes(o.value) && o.value !== server.owner)
  const addClient = (): void => {
    if (client === null) return
    setError(null)
    act('addServerClient', { server: server.id, client }).then(() => setClient(null)).catch(setError)
  }
  return (
    <Card withBorder aria-label={name} component="section">
      <Group justify="space-between" align="flex-start" mb="xs">
        <div>
          <Group gap="xs">
            <Title order={5}>{server.serverCode}</Title>
            {server.thisServer ? <Badge variant="light" color="indigo" styles={WHOLE_BADGE}>{t('servers.thisServer')}</Badge> : null}
          </Group>
          <Text size="xs" c="dimmed">{name}</Text>
        </div>
        {canChange ? (
          <ConfirmAction
            label={t('common:actions.delete')}
            ariaLabel={t('servers.deleteServerAria', { server: name })}
            title={t('servers.deleteServerTitle', { server: name })}
            consequences={<Consequences items={[
              t('servers.deleteServerConsequence', { clients: server.clients.map(idPath).join(', ') || t('members.noSubsystems') }),
              ...(server.thisServer ? [t('servers.deleteServerThis')] : []),
            ]} />}
            confirmLabel={t('common:actions.delete')}
            typeToConfirm={server.serverCode}
            onConfirm={() => act('deleteServer', { server: server.id })}
          />
        ) : null}
      </Group>
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
        <div>
          <Text size="xs" c="dimmed">{t('servers.owner')}</Text>
          <Text size="sm">{server.ownerName} <Text span size="xs" c="dimmed">({idPath(server.owner)})</Text></Text>
        </div>
        <div>
          <Text size="xs" c="dimmed">{t('servers.address')}</Text>
          <Group gap="xs">
            <Code>{server.address}</Code>
            {canChange ? <Button size="compact-xs" variant="subtle" onClick={() => setEditing(true)} aria-label={t('servers.editAddressAria', { server: name })}>{t('servers.editAddress')}</Button> : null}
          </Group>
        </div>
      </SimpleGrid>
      <Text size="xs" c="dimmed" mt="sm">{t('servers.authCerts')}</Text>
      {server.authCertificates.length === 0 ? <Text size="sm" c="orange">{t('servers.noAuthCerts')}</Text> : (
        <Stack gap={4}>
          {server.authCertificates.map((c) => (
            <Group key={c.hash} gap="xs" wrap="nowrap" align="flex-start">
              <div style={{ minWidth: 0, flex: 1 }}>
                <Text size="sm">{c.subject ?? t('servers.notIssued')}{c.revoked ? <Badge ml="xs" size="xs" color="red" variant="light" styles={WHOLE_BADGE}>{t('servers.revoked')}</Badge> : null}</Text>
                <Text size="xs" c="dimmed" style={BREAK}>{t('servers.hashLine', { hash: c.hash })}</Text>
              </div>
              {canChange ? (
                <ConfirmAction
                  label={t('common:actions.delete')}
                  ariaLabel={t('servers.deleteCertAria', { hash: c.hash, server: name })}
                  title={t('servers.deleteCertTitle', { server: name })}
                  consequences={<Consequences items={[
                    t('servers.deleteCertConsequence', { hash: c.hash }),
                    ...(server.authCertificates.length === 1 ? [t('servers.deleteCertLast')] : []),
                    ...(server.thisServer ? [t('servers.deleteCertThis')] : []),
                  ]} />}
                  confirmLabel={t('common:actions.delete')}
                  onConfirm={() => act('deleteAuthCertificate', { server: server.id, hash: c.hash })}
                />
              ) : null}
            </Group>
          ))}
        </Stack>
      )}
      <Text size="xs" c="dimmed" mt="sm">{t('servers.clients')}</Text>
      {server.clients.length === 0 ? <Text size="sm" c="dimmed">{t('servers.noClients')}</Text> : (
        <Stack gap={2}>
          {server.clients.map((c) => (
            <Group key={c} gap="xs" wrap="nowrap">
              <Text size="sm">{idPath(c)}</Text>
              {server.disabledClients.includes(c) ? (
                <Badge size="xs" color="gray" variant="light" styles={WHOLE_BADGE} title={t('servers.clientDisabledHint')}>{t('servers.clientDisabled')}</Badge>
              ) : null}
              <Text size="xs" c="dimmed">{members.find((m) => m.id === memberOf(c))?.name}</Text>
              {canChange ? (
                <ConfirmAction
                  label="✕"
                  ariaLabel={t('servers.removeClientAria', { client: idPath(c), server: name })}
                  title={t('servers.removeClientTitle', { client: idPath(c), server: name })}
                  consequences={<Consequences items={[t('servers.removeClientConsequence', { client: idPath(c), server: name })]} />}
                  confirmLabel={t('common:actions.delete')}
                  onConfirm={() => act('removeServerClient', { server: server.id, client: c })}
                  buttonProps={{ size: 'compact-xs' }}
                />
              ) : null}
            </Group>
          ))}
        </Stack>
      )}
      {canChange ? (
        <Group gap="xs" mt="sm" align="flex-end">
          <Select
            label={t('servers.addClient')} aria-label={t('servers.addClientAria', { server: name })} placeholder={t('servers.pickClient')} searchable
            data={candidates} value={client} onChange={setClient} style={{ flex: 1, minWidth: 220 }} error={fieldError(error, 'client')}
            comboboxProps={{ withinPortal: true }}
          />
          <Button variant="light" onClick={addClient} disabled={client === null} aria-label={t('servers.addClientButtonAria', { server: name })}>{t('servers.addClientButton')}</Button>
        </Group>
      ) : null}
      {error !== null && !isFieldError(error, ['client']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      <AddressDialog server={editing ? server : null} onClose={() => setEditing(false)} />
    </Card>
  )
}

function AddressDialog({ server, onClose }: { server: LabServerDto | null; onClose: () => void }) {
  const t = useT('lab', 'common')
  const act = useLabAdminStore((s) => s.act)
  const [address, setAddress] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const value = address ?? server?.address ?? ''
  const close = (): void => {
    setAddress(null)
    setError(null)
    onClose()
  }
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (server === null) return
    setBusy(true)
    setError(null)
    act('setServerAddress', { server: server.id, address: value.trim() }).then(close).catch(setError).finally(() => setBusy(false))
  }
  const name = server === null ? '' : idPath(server.id)
  return (
    <Modal opened={server !== null} onClose={close} title={t('servers.editAddressTitle', { server: name })}>
      <Stack component="form" gap="sm" onSubmit={submit} aria-label={t('servers.editAddressTitle', { server: name })}>
        {error !== null && !isFieldError(error, ['address']) ? <ErrorNotice error={error} /> : null}
        <TextInput label={t('servers.addressLabel')} description={t('servers.addressDescription')} data-autofocus value={value} onChange={(e) => setAddress(e.currentTarget.value)} error={fieldError(error, 'address')} />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>{t('common:actions.cancel')}</Button>
          <Button type="submit" loading={busy} disabled={value.trim() === ''}>{t('servers.saveAddress')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}

const REGISTER_FIELDS = ['owner', 'serverCode', 'address', 'certificate', 'certificateSerial'] as const

function RegisterServerCard() {
  const t = useT('lab', 'common')
  const { members, certificates, act } = useLabAdminStore()
  const [owner, setOwner] = useState<string | null>(null)
  const [serverCode, setServerCode] = useState('')
  const [address, setAddress] = useState('')
  const [source, setSource] = useState<'lab' | 'file'>('lab')
  const [serial, setSerial] = useState<string | null>(null)
  const [file, setFile] = useState<{ name: string; content: string; encoding: 'utf8' | 'base64' } | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const issued = registrableCertificates(certificates, serverCode)
  const chosenSerial = issued.some((c) => c.serial === serial) ? serial : (serverCode.trim() === '' ? null : (issued[0]?.serial ?? null))
  const ready = owner !== null && serverCode.trim() !== '' && address.trim() !== '' && (source === 'lab' ? chosenSerial !== null : file !== null)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (!ready || owner === null) return
    setBusy(true)
    setError(null)
    const certificate = source === 'lab' ? { certificateSerial: chosenSerial as string } : { certificate: { content: file?.content ?? '', encoding: file?.encoding ?? 'utf8' } }
    act('registerServer', { owner, serverCode: serverCode.trim(), address: address.trim(), ...certificate })
      .then(() => {
        setServerCode('')
        setAddress('')
        setSerial(null)
        setFile(null)
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  const certificateError = fieldError(error, 'certificate') ?? fieldError(error, 'certificateSerial')
  return (
    <Card withBorder>
      <Title order={4} mb="xs">{t('servers.registerTitle')}</Title>
      <Stack component="form" gap="sm" aria-label={t('servers.registerForm')} onSubmit={submit}>
        <Text size="sm">{t('servers.registerIntro')}</Text>
        {error !== null && !isFieldError(error, REGISTER_FIELDS) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label={t('servers.ownerLabel')} placeholder={t('servers.ownerPlaceholder')} searchable allowDeselect={false}
            data={members.map((m) => ({ value: m.id, label: `${idPath(m.id)} · ${m.name}` }))} value={owner} onChange={setOwner} error={fieldError(error, 'owner')}
            comboboxProps={{ withinPortal: true }}
          />
          <TextInput label={t('servers.serverCode')} description={t('servers.serverCodeDescription')} value={serverCode} onChange={(e) => setServerCode(e.currentTarget.value)} error={fieldError(error, 'serverCode')} />
        </SimpleGrid>
        <TextInput label={t('servers.addressLabel')} description={t('servers.addressDescription')} placeholder={t('servers.addressPlaceholder')} value={address} onChange={(e) => setAddress(e.currentTarget.value)} error={fieldError(error, 'address')} />
        <div>
          <Input.Label id="lab-cert-source" display="block">{t('servers.certificateSource')}</Input.Label>
          <SegmentedControl aria-labelledby="lab-cert-source" value={source} onChange={(v) => setSource(v as 'lab' | 'file')} data={[{ value: 'lab', label: t('servers.fromLab') }, { value: 'file', label: t('servers.fromFile') }]} />
        </div>
        {source === 'lab' ? (
          serverCode.trim() !== '' && issued.length === 0 ? <Text size="sm" c="orange">{t('servers.noCertificate')}</Text> : (
            <Select
              label={t('servers.pickCertificate')} description={t('servers.pickCertificateDescription')} allowDeselect={false} disabled={serverCode.trim() === ''}
              data={issued.map((c) => ({ value: c.serial, label: t('servers.certificateOption', { subject: c.subject, serial: c.serial, issued: formatDateTime(c.issuedAt) }) }))}
              value={chosenSerial} onChange={setSerial} error={certificateError} comboboxProps={{ withinPortal: true }}
            />
          )
        ) : (
          <Group gap="sm">
            <FileButton accept=".pem,.crt,.cer,.der" onChange={(chosen) => void (chosen && readFileForUpload(chosen).then((read) => setFile({ name: chosen.name, ...read })))}>
              {(props) => <Button variant="default" {...props}>{t('servers.chooseFile')}</Button>}
            </FileButton>
            {file !== null ? <Text size="sm">{t('servers.chosenFile', { name: file.name })}</Text> : null}
            {certificateError !== undefined ? <Text size="sm" c="red">{certificateError}</Text> : null}
          </Group>
        )}
        <Group justify="flex-end"><Button type="submit" loading={busy} disabled={!ready}>{t('servers.registerButton')}</Button></Group>
      </Stack>
    </Card>
  )
}
