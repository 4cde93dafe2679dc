import { useState, type FormEvent } from 'react'
import { Autocomplete, Button, Card, Group, SegmentedControl, Select, Stack, Table, Text, Title } from '@mantine/core'
import type { AccessMatrixRow } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { EndpointText, IdText, atField, fieldMessage, useSubjectName } from './ServicesParts'
import { isWholeService, serviceName, serviceNameOfId, shortId, subsystemOptions, useServicesStore, type EndpointRef } from './services-store'
import { ConfigurationEdit } from '../../lib/read-only'

/**
 * Access rights (UG-SS §11): who may call which service or endpoint — subsystems from global configuration, the
 * provider's local groups, or global groups of any instance — and the table of who may call what, revoked after asking.
 */
type Who = 'subsystem' | 'local' | 'global'
const WHOLE = '__whole__'

export function AccessRightsPanel() {
  const t = useT('services')
  const s = useServicesStore()
  return (
    <Stack gap="md">
      <ConfigurationEdit><Card withBorder>{s.services.length === 0 ? <Text size="sm" c="dimmed">{t('access.needService')}</Text> : <GrantForm />}</Card></ConfigurationEdit>
      <Card withBorder>
        <Title order={5} mb="sm">{t('access.matrix')}</Title>
        {s.matrix.length === 0 ? <Text size="sm" c="dimmed">{t('access.nobody')}</Text> : (
          <Table.ScrollContainer minWidth={600}>
            <Table aria-label={t('access.matrix')} verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('access.who')}</Table.Th><Table.Th>{t('access.service')}</Table.Th><Table.Th>{t('access.endpoint')}</Table.Th>
                  <Table.Th><span className="sr-only">{t('actionsColumn')}</span></Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {s.matrix.map((r) => <MatrixRow key={`${r.service} ${r.endpoint.method} ${r.endpoint.path} ${r.subject}`} row={r} />)}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
    </Stack>
  )
}

function MatrixRow({ row: r }: { row: AccessMatrixRow }) {
  const t = useT('services')
  const { revoke } = useServicesStore()
  const who = useSubjectName()(r)
  const endpoint = isWholeService(r.endpoint) ? t('endpoints.wholeService') : `${r.endpoint.method} ${r.endpoint.path}`
  const members = r.members.map(shortId)
  return (
    <Table.Tr>
      <Table.Td maw={260}>
        <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{who}</Text>
        {members.length > 0 ? <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{t('access.members', { list: members.join(', ') })}</Text> : null}
      </Table.Td>
      <Table.Td>
        <Text size="sm">{r.disabled ? t('access.serviceDisabled', { service: serviceNameOfId(r.service) }) : serviceNameOfId(r.service)}</Text>
        <IdText id={r.provider} dimmed />
      </Table.Td>
      <Table.Td><EndpointText endpoint={r.endpoint} /></Table.Td>
      <Table.Td>
        <ConfirmAction
          label={t('access.revoke')}
          ariaLabel={t('access.revokeAria', { who, service: serviceNameOfId(r.service) })}
          title={t('access.revokeTitle')}
          consequences={<Consequences items={[
            t('access.revokeBody', { who, service: serviceNameOfId(r.service), endpoint }),
            ...(members.length > 0 ? [t('access.revokeMembers', { count: members.length, list: members.join(', ') })] : []),
          ]} />}
          confirmLabel={t('access.revoke')}
          onConfirm={() => revoke({ service: r.service, subject: r.subject, endpoint: r.endpoint })}
        />
      </Table.Td>
    </Table.Tr>
  )
}

function GrantForm() {
  const t = useT('services')
  const s = useServicesStore()
  const [service, setService] = useState<string | null>(null)
  const [endpoint, setEndpoint] = useState<string>(WHOLE)
  const [kind, setKind] = useState<Who>('subsystem')
  const [subsystem, setSubsystem] = useState('')
  const [localGroup, setLocalGroup] = useState<string | null>(null)
  const [globalGroup, setGlobalGroup] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const chosen = s.services.find((x) => x.id === service) ?? s.services[0]
  const endpoints = chosen?.endpoints.filter((e) => !e.generated) ?? []
  const endpointRef: EndpointRef | undefined = endpoint === WHOLE ? undefined : endpoints.find((e) => `${e.method} ${e.path}` === endpoint)
  const groups = s.groups.filter((g) => g.owner === chosen?.provider)
  const subject = kind === 'subsystem' ? subsystem.trim() : kind === 'local' ? (localGroup === null ? '' : `LOCALGROUP:${localGroup}`) : (globalGroup ?? '')
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (chosen === undefined || subject === '') return
    setBusy(true)
    setError(null)
    s.grant({ service: chosen.id, subject, ...(endpointRef === undefined ? {} : { endpoint: endpointRef }) })
      .then(() => {
        setSubsystem('')
        setLocalGroup(null)
        setGlobalGroup(null)
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  const kinds: Array<{ value: Who; label: string }> = [
    { value: 'subsystem', label: t('access.kind.subsystem') },
    { value: 'local', label: t('access.kind.local') },
    { value: 'global', label: t('access.kind.global') },
  ]
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('access.grantTitle')}>
      <Title order={5}>{t('access.grantTitle')}</Title>
      <Group grow align="flex-start" wrap="wrap">
        <Select label={t('access.service')} data={s.services.map((x) => ({ value: x.id, label: `${serviceName(x)} · ${shortId(x.provider)}` }))}
          value={chosen?.id ?? null} onChange={(v) => { setService(v); setEndpoint(WHOLE); setLocalGroup(null) }} allowDeselect={false} searchable miw={220} />
        <Select label={t('access.endpoint')} data={[{ value: WHOLE, label: t('endpoints.wholeService') }, ...endpoints.map((e) => ({ value: `${e.method} ${e.path}`, label: `${e.method} ${e.path}` }))]}
          value={endpoint} onChange={(v) => setEndpoint(v ?? WHOLE)} allowDeselect={false} miw={180} />
      </Group>
      <div>
        <Text size="sm" fw={500} id="grant-kind-label">{t('access.who')}</Text>
        <SegmentedControl aria-labelledby="grant-kind-label" value={kind} onChange={(v) => setKind(v as Who)} data={kinds} fullWidth />
      </div>
      {kind === 'subsystem' ? (
        <Autocomplete label={t('access.subsystem')} description={t('access.subsystemHint')} data={subsystemOptions(s.members)}
          value={subsystem} onChange={setSubsystem} error={fieldMessage(error, 'subject')} />
      ) : kind === 'local' ? (
        groups.length === 0 ? <Text size="sm" c="dimmed">{t('access.noLocalGroups', { provider: chosen === undefined ? '' : shortId(chosen.provider) })}</Text> : (
          <Select label={t('access.localGroup')} data={groups.map((g) => ({ value: g.groupCode, label: g.description === '' ? g.groupCode : `${g.groupCode} · ${g.description}` }))}
            value={localGroup} onChange={setLocalGroup} error={fieldMessage(error, 'subject')} />
        )
      ) : s.globalGroups.length === 0 ? <Text size="sm" c="dimmed">{t('access.noGlobalGroups')}</Text> : (
        <Select label={t('access.globalGroup')} data={s.globalGroups.map((g) => ({ value: g.id, label: `${g.groupCode} · ${g.description} (${g.instance})` }))}
          value={globalGroup} onChange={setGlobalGroup} searchable error={fieldMessage(error, 'subject')} />
      )}
      {error !== null && !atField(error, ['subject']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      <Group justify="flex-end">
        <Button type="submit" loading={busy} disabled={subject === ''}>{t('access.grant')}</Button>
      </Group>
    </Stack>
  )
}
