import { useState, type FormEvent } from 'react'
import { Badge, Button, Card, Group, Modal, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import type { LabMemberDto } from '@shared/admin-api/admin-api'
import { hasTranslation, translate, useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError, isFieldError } from '../../lib/field-error'
import { idPath, useLabAdminStore } from './lab-admin-store'

const NO_WRAP = { whiteSpace: 'nowrap' } as const
const WHOLE_BADGE = { root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible', textOverflow: 'clip' } } as const

const list = (ids: readonly string[]): string => ids.map(idPath).join(', ')

/** Members and their subsystems (X-Road CS "Members"): add, add a subsystem, delete what no server uses. */
export function LabMembers({ canChange }: { canChange: boolean }) {
  const t = useT('lab', 'common')
  const { members, act } = useLabAdminStore()
  const [subsystemOf, setSubsystemOf] = useState<LabMemberDto | null>(null)
  return (
    <Stack gap="lg">
      <Card withBorder>
        <Title order={4} mb="sm">{t('members.title')}</Title>
        {members.length === 0 ? <Text size="sm" c="dimmed">{t('members.empty')}</Text> : (
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label={t('members.tableLabel')} verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('members.name')}</Table.Th>
                  <Table.Th>{t('members.class')}</Table.Th>
                  <Table.Th>{t('members.code')}</Table.Th>
                  <Table.Th>{t('members.subsystems')}</Table.Th>
                  {canChange ? <Table.Th><span className="sr-only">{t('columnActions')}</span></Table.Th> : null}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {members.map((m) => (
                  <Table.Tr key={m.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>{m.name}</Text>
                      {m.ownedServers.length > 0 ? <Badge size="xs" variant="light" styles={WHOLE_BADGE}>{t('members.owner')}</Badge> : null}
                    </Table.Td>
                    <Table.Td style={NO_WRAP}>{m.memberClass}</Table.Td>
                    <Table.Td style={NO_WRAP}>{m.memberCode}</Table.Td>
                    <Table.Td>
                      {m.subsystems.length === 0 ? <Text size="sm" c="dimmed">{t('members.noSubsystems')}</Text> : (
                        <Stack gap={2}>
                          {m.subsystems.map((sub) => (
                            <Group key={sub.id} gap={4} wrap="nowrap">
                              <Text size="sm">{sub.code}</Text>
                              {canChange ? (
                                <ConfirmAction
                                  label="✕"
                                  ariaLabel={t('members.deleteSubsystemAria', { subsystem: idPath(sub.id) })}
                                  title={t('members.deleteSubsystemTitle', { subsystem: idPath(sub.id) })}
                                  consequences={<Consequences items={[
                                    t('members.deleteSubsystemConsequence'),
                                    ...(sub.globalGroups.length > 0 ? [t('members.deleteSubsystemGroups', { groups: sub.globalGroups.join(', ') })] : []),
                                    ...(sub.servers.length > 0 ? [t('members.deleteSubsystemBlocked', { servers: list(sub.servers) })] : []),
                                  ]} />}
                                  confirmLabel={t('common:actions.delete')}
                                  onConfirm={() => act('deleteSubsystem', { subsystem: sub.id })}
                                  buttonProps={{ size: 'compact-xs' }}
                                />
                              ) : null}
                            </Group>
                          ))}
                        </Stack>
                      )}
                    </Table.Td>
                    {canChange ? (
                      <Table.Td>
                        <Stack gap={4} align="stretch">
                          <Button size="compact-xs" variant="light" onClick={() => setSubsystemOf(m)} aria-label={t('members.addSubsystemAria', { member: idPath(m.id) })}>{t('members.addSubsystem')}</Button>
                          <ConfirmAction
                            label={t('members.deleteButton')}
                            ariaLabel={t('members.deleteMemberAria', { member: idPath(m.id) })}
                            title={t('members.deleteMemberTitle', { member: `${m.name} (${idPath(m.id)})` })}
                            consequences={<Consequences items={[
                              t('members.deleteMemberConsequence', { subsystems: m.subsystems.map((x) => x.code).join(', ') || t('members.noSubsystems') }),
                              ...(m.globalGroups.length > 0 ? [t('members.deleteMemberGroups', { groups: m.globalGroups.join(', ') })] : []),
                              ...(m.ownedServers.length > 0 ? [t('members.deleteMemberOwns', { servers: list(m.ownedServers) })] : []),
                              ...(blockingServers(m).length > 0 ? [t('members.deleteMemberClient', { servers: list(blockingServers(m)) })] : []),
                            ]} />}
                            confirmLabel={t('common:actions.delete')}
                            typeToConfirm={m.memberCode}
                            onConfirm={() => act('deleteMember', { member: m.id })}
                            buttonProps={{ size: 'compact-xs' }}
                          />
                        </Stack>
                      </Table.Td>
                    ) : null}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
      {canChange ? <AddMemberCard /> : null}
      <AddSubsystemDialog member={subsystemOf} onClose={() => setSubsystemOf(null)} />
    </Stack>
  )
}

/** The servers that list the member or one of its subsystems as a client. */
function blockingServers(m: LabMemberDto): string[] {
  return [...new Set([...m.clientOf, ...m.subsystems.flatMap((s) => s.servers)])]
}

const MEMBER_FIELDS = ['memberClass', 'memberCode', 'name', 'subsystemCode'] as const

/** A member class as people read it: the lab's three known classes in the language shown, others as the lab describes them. */
function classLabel(c: { code: string; description: string }): string {
  const key = `firstRun:lab.classes.${c.code}`
  return hasTranslation(key) ? translate(key) : `${c.code} – ${c.description}`
}

function AddMemberCard() {
  const t = useT('lab', 'common')
  const { trust, act } = useLabAdminStore()
  const classes = trust?.memberClasses ?? []
  const [memberClass, setMemberClass] = useState<string | null>(null)
  const [code, setCode] = useState('')
  const [name, setName] = useState('')
  const [subsystem, setSubsystem] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const chosenClass = memberClass ?? classes.find((c) => c.code === 'GOV')?.code ?? classes[0]?.code ?? null
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (chosenClass === null) return
    setBusy(true)
    setError(null)
    act('addMember', { memberClass: chosenClass, memberCode: code.trim(), name: name.trim(), ...(subsystem.trim() === '' ? {} : { subsystemCode: subsystem.trim() }) })
      .then(() => {
        setCode('')
        setName('')
        setSubsystem('')
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  return (
    <Card withBorder>
      <Title order={4} mb="sm">{t('members.addTitle')}</Title>
      <Stack component="form" gap="sm" aria-label={t('members.addForm')} onSubmit={submit}>
        {error !== null && !isFieldError(error, MEMBER_FIELDS) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label={t('members.class')} description={t('members.classDescription')} allowDeselect={false}
            data={classes.map((c) => ({ value: c.code, label: classLabel(c) }))} value={chosenClass} onChange={setMemberClass}
            error={fieldError(error, 'memberClass')}
          />
          <TextInput label={t('members.code')} description={t('members.codeDescription')} value={code} onChange={(e) => setCode(e.currentTarget.value)} error={fieldError(error, 'memberCode')} />
          <TextInput label={t('members.name')} description={t('members.nameDescription')} value={name} onChange={(e) => setName(e.currentTarget.value)} error={fieldError(error, 'name')} />
          <TextInput label={t('members.firstSubsystem')} description={t('members.firstSubsystemDescription')} value={subsystem} onChange={(e) => setSubsystem(e.currentTarget.value)} error={fieldError(error, 'subsystemCode')} />
        </SimpleGrid>
        <Group justify="flex-end"><Button type="submit" loading={busy} disabled={code.trim() === '' || name.trim() === ''}>{t('members.addButton')}</Button></Group>
      </Stack>
    </Card>
  )
}

function AddSubsystemDialog({ member, onClose }: { member: LabMemberDto | null; onClose: () => void }) {
  const t = useT('lab', 'common')
  const act = useLabAdminStore((s) => s.act)
  const [code, setCode] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const close = (): void => {
    setCode('')
    setError(null)
    onClose()
  }
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (member === null) return
    setBusy(true)
    setError(null)
    act('addSubsystem', { member: member.id, subsystemCode: code.trim() }).then(close).catch(setError).finally(() => setBusy(false))
  }
  return (
    <Modal opened={member !== null} onClose={close} title={t('members.addSubsystemTitle', { member: member === null ? '' : `${member.name} (${idPath(member.id)})` })}>
      <Stack component="form" gap="sm" onSubmit={submit} aria-label={t('members.addSubsystemTitle', { member: member === null ? '' : idPath(member.id) })}>
        {error !== null && !isFieldError(error, ['subsystemCode']) ? <ErrorNotice error={error} /> : null}
        <TextInput label={t('members.subsystemCode')} data-autofocus value={code} onChange={(e) => setCode(e.currentTarget.value)} error={fieldError(error, 'subsystemCode')} />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>{t('common:actions.cancel')}</Button>
          <Button type="submit" loading={busy} disabled={code.trim() === ''}>{t('members.addSubsystemButton')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}
