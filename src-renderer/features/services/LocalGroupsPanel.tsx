import { useState, type FormEvent } from 'react'
import { Autocomplete, Button, Card, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import type { LocalGroupDto } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { IdText, atField, fieldMessage } from './ServicesParts'
import { rightsOfGroup, shortId, subsystemOptions, useServicesStore } from './services-store'
import { ConfigurationEdit, EditButton } from '../../lib/read-only'

/**
 * Local groups of the subsystems (UG-SS §10): members chosen from global configuration, the description, and deleting
 * a group together with the access rights that name it (as X-Road's LocalGroupService does).
 */
export function LocalGroupsPanel() {
  const t = useT('services')
  const { groups, clients } = useServicesStore()
  const subsystems = clients.filter((c) => c.kind === 'SUBSYSTEM').map((c) => c.id)
  return (
    <Stack gap="md">
      <ConfigurationEdit><Card withBorder>{subsystems.length === 0 ? <Text size="sm" c="dimmed">{t('groups.needSubsystem')}</Text> : <AddGroupForm subsystems={subsystems} />}</Card></ConfigurationEdit>
      {groups.length === 0 ? <Text size="sm" c="dimmed">{t('groups.none')}</Text> : groups.map((g) => <GroupCard key={`${g.owner} ${g.groupCode}`} group={g} />)}
    </Stack>
  )
}

function AddGroupForm({ subsystems }: { subsystems: string[] }) {
  const t = useT('services')
  const { addGroup } = useServicesStore()
  const [owner, setOwner] = useState<string | null>(null)
  const [code, setCode] = useState('')
  const [description, setDescription] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const chosen = owner !== null && subsystems.includes(owner) ? owner : (subsystems[0] ?? null)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (chosen === null) return
    setBusy(true)
    setError(null)
    addGroup({ client: chosen, groupCode: code.trim(), description: description.trim() })
      .then(() => {
        setCode('')
        setDescription('')
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('groups.addTitle')}>
      <Title order={5}>{t('groups.addTitle')}</Title>
      <Group grow align="flex-start" wrap="wrap">
        <Select label={t('groups.owner')} data={subsystems.map((id) => ({ value: id, label: shortId(id) }))} value={chosen} onChange={setOwner} allowDeselect={false} miw={220} />
        <TextInput label={t('groups.code')} value={code} onChange={(e) => setCode(e.currentTarget.value)} error={fieldMessage(error, 'groupCode')} miw={160} />
      </Group>
      <TextInput label={t('groups.description')} value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={fieldMessage(error, 'description')} />
      {error !== null && !atField(error, ['groupCode', 'description']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      <Group justify="flex-end"><Button type="submit" loading={busy} disabled={code.trim() === ''}>{t('groups.add')}</Button></Group>
    </Stack>
  )
}

function GroupCard({ group }: { group: LocalGroupDto }) {
  const t = useT('services')
  const s = useServicesStore()
  const [editing, setEditing] = useState(false)
  const rights = rightsOfGroup(s.matrix, group.owner, group.groupCode)
  const ref = { client: group.owner, groupCode: group.groupCode }
  return (
    <Card withBorder component="section" aria-label={t('groups.card', { group: group.groupCode })}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <div style={{ minWidth: 0, flex: '1 1 260px' }}>
            <Title order={5}>{group.groupCode}</Title>
            <IdText id={group.owner} dimmed />
            <Text size="sm">{group.description === '' ? t('groups.noDescription') : group.description}</Text>
          </div>
          <Group gap={6} wrap="wrap">
            <EditButton size="xs" variant="default" onClick={() => setEditing(true)} aria-label={t('groups.editAria', { group: group.groupCode })}>{t('groups.edit')}</EditButton>
            <ConfirmAction
              label={t('groups.delete')}
              ariaLabel={t('groups.deleteAria', { group: group.groupCode })}
              title={t('groups.deleteTitle', { group: group.groupCode })}
              consequences={<Consequences items={[
                t('groups.deleteBody', { group: group.groupCode, count: group.members.length }),
                rights.length === 0 ? t('groups.deleteNoRights') : t('groups.deleteRights', {
                  count: rights.length, list: [...new Set(rights.map((r) => r.serviceCode))].join(', '), members: group.members.map(shortId).join(', ') || '–',
                }),
              ]} />}
              confirmLabel={t('groups.deleteConfirm')}
              onConfirm={() => s.deleteGroup(group.owner, group.groupCode)}
            />
          </Group>
        </Group>
        {group.members.length === 0 ? <Text size="sm" c="dimmed">{t('groups.noMembers')}</Text> : (
          <Table aria-label={t('groups.membersTable', { group: group.groupCode })} verticalSpacing={4}>
            <Table.Tbody>
              {group.members.map((m) => (
                <Table.Tr key={m}>
                  <Table.Td><IdText id={m} /></Table.Td>
                  <Table.Td w={1}>
                    <ConfirmAction
                      label={t('groups.removeMember')}
                      ariaLabel={t('groups.removeMemberAria', { member: shortId(m), group: group.groupCode })}
                      title={t('groups.removeMemberTitle')}
                      consequences={<Text size="sm">{rights.length === 0
                        ? t('groups.removeMemberBody', { member: shortId(m), group: group.groupCode })
                        : t('groups.removeMemberLoses', { member: shortId(m), group: group.groupCode, list: [...new Set(rights.map((r) => r.serviceCode))].join(', ') })}</Text>}
                      confirmLabel={t('groups.removeMember')}
                      onConfirm={() => s.removeGroupMember({ ...ref, member: m })}
                    />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <ConfigurationEdit><AddMemberForm group={group} /></ConfigurationEdit>
      </Stack>
      {editing ? <EditGroupDialog group={group} onClose={() => setEditing(false)} /> : null}
    </Card>
  )
}

function AddMemberForm({ group }: { group: LocalGroupDto }) {
  const t = useT('services')
  const s = useServicesStore()
  const [member, setMember] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    s.addGroupMember({ client: group.owner, groupCode: group.groupCode, member: member.trim() }).then(() => setMember('')).catch(setError).finally(() => setBusy(false))
  }
  return (
    <Group component="form" onSubmit={submit} align="flex-end" wrap="wrap" gap="xs" aria-label={t('groups.addMemberAria', { group: group.groupCode })}>
      <Autocomplete label={t('groups.member')} description={t('groups.memberHint')} data={subsystemOptions(s.members, group.members)} value={member}
        onChange={setMember} error={fieldMessage(error, 'member')} style={{ flex: '1 1 260px' }} />
      <Button type="submit" variant="light" loading={busy} disabled={member.trim() === ''}>{t('groups.addMember')}</Button>
      {error !== null && !atField(error, ['member']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
    </Group>
  )
}

function EditGroupDialog({ group, onClose }: { group: LocalGroupDto; onClose(): void }) {
  const t = useT('services', 'common')
  const { updateGroup } = useServicesStore()
  const [description, setDescription] = useState(group.description)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    updateGroup({ client: group.owner, groupCode: group.groupCode, description: description.trim() }).then(onClose).catch(setError).finally(() => setBusy(false))
  }
  return (
    <Modal opened onClose={onClose} title={t('groups.editTitle', { group: group.groupCode })}>
      <Stack component="form" gap="sm" onSubmit={submit}>
        <TextInput label={t('groups.description')} value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={fieldMessage(error, 'description')} data-autofocus />
        {error !== null && !atField(error, ['description']) ? <ErrorNotice error={error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>{t('common:actions.cancel')}</Button>
          <Button type="submit" loading={busy}>{t('common:actions.save')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}
