import { useEffect, useState, type FormEvent } from 'react'
import { Badge, Button, Card, Group, NumberInput, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { shortId, subjectFromInput, useServicesStore } from './services-store'

const METHODS = ['*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']

/** Clients and subsystems, REST services with endpoints, local groups, access rights and "who may call what". */
export function ServicesPage() {
  const s = useServicesStore()
  const load = s.load
  useEffect(() => {
    void load()
  }, [load])
  const subsystems = s.clients.filter((c) => c.kind === 'SUBSYSTEM')
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Clients, services and access rights</Title>
        <Text c="dimmed" size="sm">Subsystems provide REST services; access rights say which clients and groups may call them.</Text>
      </div>
      {s.error ? <ErrorNotice error={s.error} onClose={s.clearError} /> : null}
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Card withBorder>
          <Title order={4} mb="sm">Clients</Title>
          <Table aria-label="Clients">
            <Table.Thead><Table.Tr><Table.Th>Client</Table.Th><Table.Th>Name</Table.Th><Table.Th>State</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {s.clients.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td><Text size="sm" ff="monospace">{c.path}</Text>{c.owner ? <Badge size="xs" ml={6}>owner</Badge> : null}</Table.Td>
                  <Table.Td>{c.name ?? '–'}</Table.Td>
                  <Table.Td><Badge variant="light" color={c.state === 'REGISTERED' ? 'green' : c.state === 'DISABLED' ? 'gray' : 'blue'}>{c.state.toLowerCase().replace(/_/g, ' ')}</Badge></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <AddClientForm />
        </Card>
        <Card withBorder>
          <Title order={4} mb="sm">Add a REST service</Title>
          <AddServiceForm subsystems={subsystems.map((c) => c.id)} />
        </Card>
      </SimpleGrid>
      <Card withBorder>
        <Title order={4} mb="sm">Services and endpoints</Title>
        {s.services.length === 0 ? <Text size="sm" c="dimmed">No services yet.</Text> : (
          <Table aria-label="Services">
            <Table.Thead><Table.Tr><Table.Th>Service</Table.Th><Table.Th>URL</Table.Th><Table.Th>Endpoints</Table.Th><Table.Th>State</Table.Th><Table.Th><span className="sr-only">Actions</span></Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {s.services.map((svc) => (
                <Table.Tr key={svc.id}>
                  <Table.Td><Text size="sm" fw={600}>{svc.serviceCode}</Text><Text size="xs" c="dimmed">{shortId(svc.provider)}</Text></Table.Td>
                  <Table.Td><Text size="sm" ff="monospace">{svc.url}</Text><Text size="xs" c="dimmed">timeout {svc.timeoutSeconds} s</Text></Table.Td>
                  <Table.Td>{svc.endpoints.map((e) => <Badge key={`${e.method} ${e.path}`} variant="outline" mr={4} tt="none">{e.generated ? 'whole service' : `${e.method} ${e.path}`}</Badge>)}</Table.Td>
                  <Table.Td>{svc.disabled ? <><Badge color="gray">disabled</Badge><Text size="xs">{svc.disabledNotice}</Text></> : <Badge color="green" variant="light">enabled</Badge>}</Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="default" onClick={() => void s.setEnabled(svc.id, svc.disabled, svc.disabled ? undefined : 'Temporarily unavailable')} aria-label={`${svc.disabled ? 'Enable' : 'Disable'} service ${svc.serviceCode}`}>
                      {svc.disabled ? 'Enable' : 'Disable'}
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {s.services.length > 0 ? <AddEndpointForm services={s.services.map((x) => x.id)} /> : null}
      </Card>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Card withBorder>
          <Title order={4} mb="sm">Grant access</Title>
          <GrantForm services={s.services.map((x) => x.id)} />
        </Card>
        <Card withBorder>
          <Title order={4} mb="sm">Local groups</Title>
          {s.groups.length === 0 ? <Text size="sm" c="dimmed">No local groups.</Text> : s.groups.map((g) => (
            <Text key={`${g.owner}/${g.groupCode}`} size="sm"><b>{g.groupCode}</b> of {shortId(g.owner)}: {g.members.map(shortId).join(', ') || 'no members'}</Text>
          ))}
          <GroupForm subsystems={subsystems.map((c) => c.id)} />
        </Card>
      </SimpleGrid>
      <Card withBorder>
        <Title order={4} mb="sm">Who may call what</Title>
        {s.matrix.length === 0 ? <Text size="sm" c="dimmed">Nobody may call any service yet: grant access above.</Text> : (
          <Table aria-label="Who may call what">
            <Table.Thead><Table.Tr><Table.Th>Who</Table.Th><Table.Th>Service</Table.Th><Table.Th>Endpoint</Table.Th><Table.Th><span className="sr-only">Actions</span></Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {s.matrix.map((r) => (
                <Table.Tr key={`${r.service} ${r.endpoint.method} ${r.endpoint.path} ${r.subject}`}>
                  <Table.Td><Text size="sm">{r.subjectLabel}</Text>{r.members.length > 0 ? <Text size="xs" c="dimmed">members: {r.members.map(shortId).join(', ')}</Text> : null}</Table.Td>
                  <Table.Td>{r.serviceCode}{r.disabled ? ' (disabled)' : ''}<Text size="xs" c="dimmed">{shortId(r.provider)}</Text></Table.Td>
                  <Table.Td><Text ff="monospace" size="sm">{r.endpoint.method === '*' && r.endpoint.path === '**' ? 'whole service' : `${r.endpoint.method} ${r.endpoint.path}`}</Text></Table.Td>
                  <Table.Td><Button size="xs" variant="subtle" color="red" onClick={() => void s.revoke({ service: r.service, subject: r.subject, endpoint: r.endpoint })} aria-label={`Revoke ${r.subjectLabel} on ${r.serviceCode}`}>Revoke</Button></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
    </Stack>
  )
}

function AddClientForm() {
  const { addClient, loading } = useServicesStore()
  const [client, setClient] = useState('')
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    void addClient(client.trim()).then((ok) => ok && setClient(''))
  }
  return (
    <Group component="form" onSubmit={submit} align="flex-end" mt="sm" aria-label="Add a client">
      <TextInput label="New subsystem" description="INSTANCE/CLASS/CODE/SUBSYSTEM" value={client} onChange={(e) => setClient(e.currentTarget.value)} style={{ flex: 1 }} />
      <Button type="submit" loading={loading} disabled={client.trim() === ''}>Add client</Button>
    </Group>
  )
}

function AddServiceForm({ subsystems }: { subsystems: string[] }) {
  const { addService, loading } = useServicesStore()
  const [client, setClient] = useState<string | null>(null)
  const [code, setCode] = useState('')
  const [url, setUrl] = useState('')
  const [timeout, setTimeoutSeconds] = useState<number | string>(60)
  const chosen = client ?? subsystems[0] ?? null
  const urlError = url !== '' && !/^https?:\/\/[^/\s]+/.test(url) ? 'An http:// or https:// address' : null
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (chosen === null) return
    void addService({ client: chosen, serviceCode: code.trim(), url: url.trim(), timeoutSeconds: Number(timeout) }).then((ok) => ok && (setCode(''), setUrl('')))
  }
  if (subsystems.length === 0) return <Text size="sm" c="dimmed">Add a subsystem first: services belong to subsystems.</Text>
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label="Add a REST service">
      <Select label="Provider subsystem" data={subsystems.map((id) => ({ value: id, label: shortId(id) }))} value={chosen} onChange={setClient} allowDeselect={false} />
      <TextInput label="Service code" value={code} onChange={(e) => setCode(e.currentTarget.value)} />
      <TextInput label="Service URL" description="Where this server forwards requests, e.g. https://api.internal/v1" value={url} error={urlError} onChange={(e) => setUrl(e.currentTarget.value)} />
      <NumberInput label="Timeout (seconds)" min={1} max={3600} value={timeout} onChange={setTimeoutSeconds} />
      <Group justify="flex-end"><Button type="submit" loading={loading} disabled={code.trim() === '' || url.trim() === '' || urlError !== null}>Add service</Button></Group>
    </Stack>
  )
}

function AddEndpointForm({ services }: { services: string[] }) {
  const { addEndpoint, loading } = useServicesStore()
  const [service, setService] = useState<string | null>(null)
  const [method, setMethod] = useState<string | null>('GET')
  const [path, setPath] = useState('')
  const chosen = service ?? services[0] ?? null
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (chosen && method) void addEndpoint({ service: chosen, method, path: path.trim() }).then((ok) => ok && setPath(''))
  }
  return (
    <Group component="form" onSubmit={submit} align="flex-end" mt="sm" aria-label="Add an endpoint">
      <Select label="Service" data={services.map((id) => ({ value: id, label: shortId(id) }))} value={chosen} onChange={setService} allowDeselect={false} />
      <Select label="Method" data={METHODS} value={method} onChange={setMethod} w={110} allowDeselect={false} />
      <TextInput label="Path" placeholder="/items/*" value={path} onChange={(e) => setPath(e.currentTarget.value)} />
      <Button type="submit" variant="light" loading={loading} disabled={!path.startsWith('/')}>Add endpoint</Button>
    </Group>
  )
}

function GrantForm({ services }: { services: string[] }) {
  const { grant, loading } = useServicesStore()
  const [service, setService] = useState<string | null>(null)
  const [kind, setKind] = useState<'client' | 'local' | 'global'>('client')
  const [subject, setSubject] = useState('')
  const chosen = service ?? services[0] ?? null
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (chosen) void grant({ service: chosen, subject: subjectFromInput(kind, subject) }).then((ok) => ok && setSubject(''))
  }
  if (services.length === 0) return <Text size="sm" c="dimmed">Add a service first.</Text>
  const hint = kind === 'client' ? 'INSTANCE/CLASS/CODE/SUBSYSTEM of the caller' : kind === 'local' ? 'Code of a local group of the provider' : 'INSTANCE/groupcode from global configuration'
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label="Grant access">
      <Select label="Service" data={services.map((id) => ({ value: id, label: shortId(id) }))} value={chosen} onChange={setService} allowDeselect={false} />
      <div>
        <Text size="sm" fw={500} id="subject-kind-label">Who</Text>
        <SegmentedControl aria-labelledby="subject-kind-label" value={kind} onChange={(v) => setKind(v as typeof kind)} data={[{ value: 'client', label: 'Subsystem' }, { value: 'local', label: 'Local group' }, { value: 'global', label: 'Global group' }]} />
      </div>
      <TextInput label="Subject" description={hint} value={subject} onChange={(e) => setSubject(e.currentTarget.value)} />
      <Group justify="flex-end"><Button type="submit" loading={loading} disabled={subject.trim() === ''}>Grant access to the whole service</Button></Group>
    </Stack>
  )
}

function GroupForm({ subsystems }: { subsystems: string[] }) {
  const { addGroup, addGroupMember, loading } = useServicesStore()
  const [client, setClient] = useState<string | null>(null)
  const [code, setCode] = useState('')
  const [member, setMember] = useState('')
  const chosen = client ?? subsystems[0] ?? null
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (chosen === null) return
    void (async () => {
      const { groups } = useServicesStore.getState()
      const exists = groups.some((g) => g.owner === chosen && g.groupCode === code.trim())
      const ok = exists || (await addGroup({ client: chosen, groupCode: code.trim(), description: code.trim() }))
      if (ok && member.trim() !== '') await addGroupMember({ client: chosen, groupCode: code.trim(), member: member.trim() })
      setMember('')
    })()
  }
  if (subsystems.length === 0) return null
  return (
    <Stack component="form" gap="xs" mt="sm" onSubmit={submit} aria-label="Local group">
      <Select label="Owner subsystem" data={subsystems.map((id) => ({ value: id, label: shortId(id) }))} value={chosen} onChange={setClient} allowDeselect={false} />
      <TextInput label="Group code" value={code} onChange={(e) => setCode(e.currentTarget.value)} />
      <TextInput label="Add member (optional)" description="INSTANCE/CLASS/CODE/SUBSYSTEM" value={member} onChange={(e) => setMember(e.currentTarget.value)} />
      <Group justify="flex-end"><Button type="submit" variant="light" loading={loading} disabled={code.trim() === ''}>Save group</Button></Group>
    </Stack>
  )
}
