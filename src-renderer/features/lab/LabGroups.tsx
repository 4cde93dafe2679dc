import { useState, type FormEvent } from 'react'
import { Button, Card, Group, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core'
import type { LabGlobalGroupDto } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError, isFieldError } from '../../lib/field-error'
import { clientOptions, idPath, memberOf, useLabAdminStore } from './lab-admin-store'

/** Global groups (X-Road CS "Global resources → Global groups"): create, members added and removed with a picker, delete. */
export function LabGroups({ canChange }: { canChange: boolean }) {
  const t = useT('lab', 'common')
  const groups = useLabAdminStore((s) => s.groups)
  return (
    <Stack gap="lg">
      <Title order={4}>{t('groups.title')}</Title>
      {groups.length === 0 ? <Text size="sm" c="dimmed">{t('groups.empty')}</Text> : groups.map((g) => <GroupCard key={g.id} group={g} canChange={canChange} />)}
      {canChange ? <CreateGroupCard /> : null}
    </Stack>
  )
}

function GroupCard({ group, canChange }: { group: LabGlobalGroupDto; canChange: boolean }) {
  const t = useT('lab', 'common')
  const { members, act } = useLabAdminStore()
  const [picked, setPicked] = useState<string | null>(null)
  const [error, setError] = useState<unknown>(null)
  const candidates = clientOptions(members).filter((o) => !group.members.includes(o.value))
  const add = (): void => {
    if (picked === null) return
    setError(null)
    act('addGlobalGroupMember', { code: group.code, member: picked }).then(() => setPicked(null)).catch(setError)
  }
  return (
    <Card withBorder component="section" aria-label={group.code}>
      <Group justify="space-between" align="flex-start" mb="xs">
        <div>
          <Title order={5}>{group.code}</Title>
          <Text size="sm" c="dimmed">{group.description}</Text>
        </div>
        {canChange ? (
          <ConfirmAction
            label={t('common:actions.delete')}
            ariaLabel={t('groups.deleteAria', { group: group.code })}
            title={t('groups.deleteTitle', { group: group.code })}
            consequences={<Consequences items={[t('groups.deleteConsequence', { group: group.code, count: group.members.length })]} />}
            confirmLabel={t('common:actions.delete')}
            onConfirm={() => act('deleteGlobalGroup', { code: group.code })}
          />
        ) : null}
      </Group>
      <Text size="xs" c="dimmed">{t('groups.members')}</Text>
      {group.members.length === 0 ? <Text size="sm" c="dimmed">{t('groups.noMembers')}</Text> : (
        <Stack gap={2}>
          {group.members.map((m) => (
            <Group key={m} gap="xs" wrap="nowrap">
              <Text size="sm">{idPath(m)}</Text>
              <Text size="xs" c="dimmed">{members.find((x) => x.id === memberOf(m))?.name}</Text>
              {canChange ? (
                <ConfirmAction
                  label="✕"
                  ariaLabel={t('groups.removeMemberAria', { member: idPath(m), group: group.code })}
                  title={t('groups.removeMemberTitle', { member: idPath(m), group: group.code })}
                  consequences={<Consequences items={[t('groups.removeMemberConsequence', { member: idPath(m), group: group.code })]} />}
                  confirmLabel={t('common:actions.delete')}
                  onConfirm={() => act('removeGlobalGroupMember', { code: group.code, member: m })}
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
            label={t('groups.addMember')} aria-label={t('groups.addMemberAria', { group: group.code })} searchable
            data={candidates} value={picked} onChange={setPicked} style={{ flex: 1, minWidth: 220 }} error={fieldError(error, 'member')}
            comboboxProps={{ withinPortal: true }}
          />
          <Button variant="light" onClick={add} disabled={picked === null} aria-label={t('groups.addMemberButtonAria', { group: group.code })}>{t('groups.addMemberButton')}</Button>
        </Group>
      ) : null}
      {error !== null && !isFieldError(error, ['member']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
    </Card>
  )
}

function CreateGroupCard() {
  const t = useT('lab', 'common')
  const act = useLabAdminStore((s) => s.act)
  const [code, setCode] = useState('')
  const [description, setDescription] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    act('addGlobalGroup', { code: code.trim(), description: description.trim() })
      .then(() => {
        setCode('')
        setDescription('')
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  return (
    <Card withBorder>
      <Title order={4} mb="sm">{t('groups.createTitle')}</Title>
      <Stack component="form" gap="sm" aria-label={t('groups.createForm')} onSubmit={submit}>
        {error !== null && !isFieldError(error, ['code', 'description']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('groups.code')} description={t('groups.codeDescription')} value={code} onChange={(e) => setCode(e.currentTarget.value)} error={fieldError(error, 'code')} />
          <TextInput label={t('groups.description')} value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={fieldError(error, 'description')} />
        </SimpleGrid>
        <Group justify="flex-end"><Button type="submit" loading={busy} disabled={code.trim() === '' || description.trim() === ''}>{t('groups.createButton')}</Button></Group>
      </Stack>
    </Card>
  )
}
