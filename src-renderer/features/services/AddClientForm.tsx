import { useState, type FormEvent } from 'react'
import { Autocomplete, Button, Checkbox, Group, Select, Stack, Text, TextInput, Title } from '@mantine/core'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { atField, fieldMessage } from './ServicesParts'
import { shortId, subsystemCodesOf, useServicesStore } from './services-store'

/**
 * Adds a subsystem as a client of this server: the member is chosen from global configuration and the subsystem code
 * from that member's subsystems there, or typed (a new subsystem is created in the instance when it is registered). A
 * member global configuration does not list yet is given by its full identifier.
 */
export function AddClientForm() {
  const t = useT('services')
  const { members, clients, addClient } = useServicesStore()
  const [member, setMember] = useState<string | null>(null)
  const [code, setCode] = useState('')
  const [typed, setTyped] = useState(false)
  const [identifier, setIdentifier] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const manual = typed || members.length === 0
  const existing = clients.map((c) => c.id)
  // This server's owner first: its subsystems are the usual clients; any other member of the instance may be chosen.
  const owner = clients.find((c) => c.owner)?.id
  const chosen = member ?? members.find((m) => m.id === owner)?.id ?? members[0]?.id ?? null
  const client = manual ? identifier.trim() : chosen === null || code.trim() === '' ? '' : `${shortId(chosen)}/${code.trim()}`

  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (client === '') return
    setBusy(true)
    setError(null)
    addClient(client)
      .then(() => {
        setCode('')
        setIdentifier('')
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('addClient.title')}>
      <Title order={5}>{t('addClient.title')}</Title>
      {manual ? (
        <TextInput
          label={t('addClient.identifier')}
          description={t('addClient.identifierHint')}
          value={identifier}
          onChange={(e) => setIdentifier(e.currentTarget.value)}
          error={fieldMessage(error, 'client')}
        />
      ) : (
        <Group grow align="flex-start" wrap="wrap">
          <Select
            label={t('addClient.member')}
            data={members.map((m) => ({ value: m.id, label: `${m.name} · ${shortId(m.id)}` }))}
            value={chosen}
            onChange={setMember}
            searchable
            allowDeselect={false}
            miw={220}
          />
          <Autocomplete
            label={t('addClient.subsystem')}
            description={t('addClient.subsystemHint')}
            data={subsystemCodesOf(members, chosen, existing)}
            value={code}
            onChange={setCode}
            error={fieldMessage(error, 'client')}
            miw={180}
          />
        </Group>
      )}
      {members.length > 0 ? (
        <Checkbox size="xs" label={t('addClient.notListed')} checked={typed} onChange={(e) => setTyped(e.currentTarget.checked)} />
      ) : (
        <Text size="xs" c="dimmed">{t('addClient.noMembers')}</Text>
      )}
      {error !== null && !atField(error, ['client']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      <Group justify="flex-end">
        <Button type="submit" loading={busy} disabled={client === ''}>{t('addClient.submit')}</Button>
      </Group>
    </Stack>
  )
}
