import { useEffect, type FormEvent, type ReactNode } from 'react'
import {
  Alert, Anchor, Badge, Button, Card, Code, Drawer, Group, Loader, NativeSelect, ScrollArea, SimpleGrid, Stack, Table, Text, TextInput, Title, VisuallyHidden,
} from '@mantine/core'
import type { EvidenceVerdict, MessageRecordDetails } from '@shared/admin-api/admin-api'
import { useRouterStore } from '../../app/router-store'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { useSessionStore } from '../login/session-store'
import { STATUS_WORDS, VERDICT_TITLES, mayReadBodies, useMessageLogStore } from './message-log-store'
import { formatTime } from '../../lib/format-time'

const VERDICT_COLORS: Record<EvidenceVerdict['verdict'], string> = { valid: 'green', invalid: 'red', 'not-verified': 'yellow' }
const STATUS_COLORS = { unstamped: 'yellow', timestamped: 'green', archived: 'gray' } as const

/** Logged messages: search, record details, evidence export and verification, time-stamping and disk forecast. */
export function MessageLogPage() {
  const store = useMessageLogStore()
  const { search, loadOverview } = store
  useEffect(() => {
    void search()
    void loadOverview()
  }, [search, loadOverview])
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    void search()
  }
  const { filter, setFilter } = store
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Message log</Title>
        <Text c="dimmed" size="sm">
          Every message this server signed or received is logged before it is passed on and later time-stamped: the legal evidence of the exchange.
          Search by time, client, service or query id; open a record to export its evidence and check it.
        </Text>
      </div>
      <Overview />
      <Card withBorder radius="md" component="form" onSubmit={onSubmit} aria-label="Search the message log">
        <Group align="flex-end" wrap="wrap">
          <TextInput type="datetime-local" label="From" value={filter.from} onChange={(e) => setFilter({ from: e.currentTarget.value })} />
          <TextInput type="datetime-local" label="To" value={filter.to} onChange={(e) => setFilter({ to: e.currentTarget.value })} />
          <TextInput label="Client" placeholder="LAB/GOV/1001/consumer" value={filter.client} onChange={(e) => setFilter({ client: e.currentTarget.value })} />
          <TextInput label="Service" placeholder="LAB/GOV/2002/provider/pets" value={filter.service} onChange={(e) => setFilter({ service: e.currentTarget.value })} />
          <TextInput label="Query id" value={filter.queryId} onChange={(e) => setFilter({ queryId: e.currentTarget.value })} />
          <NativeSelect
            label="Direction"
            data={[{ value: '', label: 'Both' }, { value: 'request', label: 'Requests' }, { value: 'response', label: 'Responses' }]}
            value={filter.direction}
            onChange={(e) => setFilter({ direction: e.currentTarget.value as typeof filter.direction })}
          />
          <NativeSelect
            label="Status"
            data={[{ value: '', label: 'Any' }, { value: 'unstamped', label: STATUS_WORDS.unstamped }, { value: 'timestamped', label: STATUS_WORDS.timestamped }, { value: 'archived', label: STATUS_WORDS.archived }]}
            value={filter.status}
            onChange={(e) => setFilter({ status: e.currentTarget.value as typeof filter.status })}
          />
          <Button type="submit" loading={store.loading}>Search</Button>
          <Button variant="default" onClick={() => { store.clearFilter(); void search() }}>Clear</Button>
        </Group>
      </Card>
      {store.error ? <ErrorNotice error={store.error} /> : null}
      <Card withBorder radius="md" padding={0}>
        <Table.ScrollContainer minWidth={900}>
          <Table striped highlightOnHover aria-label="Logged messages">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Logged</Table.Th><Table.Th>Direction</Table.Th><Table.Th>Query id</Table.Th><Table.Th>Client</Table.Th>
                <Table.Th>Service</Table.Th><Table.Th>Status</Table.Th><Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {store.records.length === 0 ? (
                <Table.Tr><Table.Td colSpan={7}><Text size="sm" c="dimmed" ta="center" py="md">{store.searched ? 'No logged message matches.' : 'Searching…'}</Text></Table.Td></Table.Tr>
              ) : (
                store.records.map((r) => (
                  <Table.Tr key={r.id} aria-selected={store.selected?.id === r.id}>
                    <Table.Td><Text size="sm">{formatTime(r.loggedAt)}</Text></Table.Td>
                    <Table.Td>{r.direction === 'request' ? 'Request' : 'Response'}</Table.Td>
                    <Table.Td><Text size="sm" ff="monospace">{r.queryId}</Text></Table.Td>
                    <Table.Td><Text size="sm">{r.clientPath}</Text></Table.Td>
                    <Table.Td><Text size="sm">{r.servicePath}</Text></Table.Td>
                    <Table.Td><Badge color={STATUS_COLORS[r.status]} variant="light" style={{ minWidth: 'max-content' }}>{STATUS_WORDS[r.status]}</Badge></Table.Td>
                    <Table.Td>
                      <Button size="xs" variant="light" onClick={() => void store.open(r.id)} aria-label={`Open ${r.direction} ${r.queryId}`}>Open</Button>
                    </Table.Td>
                  </Table.Tr>
                ))
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
      <RecordDrawer />
    </Stack>
  )
}

function Overview() {
  const { status, forecast, overviewError, stamping, timestampNow } = useMessageLogStore()
  const navigate = useRouterStore((r) => r.navigate)
  return (
    <>
      {overviewError ? <ErrorNotice error={overviewError} /> : null}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder radius="md" padding="lg" aria-label="Time-stamping">
          <Group justify="space-between" mb="xs" wrap="nowrap">
            <Text fw={600}>Time-stamping</Text>
            {status ? <StatusLight light={status.light} /> : <Loader size="xs" aria-label="Loading time-stamping status" />}
          </Group>
          <Text size="sm" c="dimmed" data-testid="timestamping-explanation">{status?.explanation ?? ''}</Text>
          {status ? (
            <Group mt="sm" gap="lg">
              <Text size="sm">Waiting: <b>{status.backlogCapped ? `> ${status.backlog}` : status.backlog}</b></Text>
              <Text size="sm">Last success: <b>{status.lastSuccessAt ? formatTime(status.lastSuccessAt) : 'never'}</b></Text>
              <Button size="xs" variant="default" loading={stamping} onClick={() => void timestampNow()} disabled={status.backlog === 0}>Time-stamp now</Button>
            </Group>
          ) : null}
        </Card>
        <Card withBorder radius="md" padding="lg" aria-label="Disk use forecast">
          <Group justify="space-between" mb="xs" wrap="nowrap">
            <Text fw={600}>Disk use forecast</Text>
            {forecast ? <StatusLight light={forecast.light} /> : <Loader size="xs" aria-label="Loading the disk forecast" />}
          </Group>
          <Text size="sm" c="dimmed">{forecast?.explanation ?? ''}</Text>
          {forecast ? (
            <Text size="sm" mt="sm">
              Records are kept {forecast.keepRecordsForDays} days after archiving{forecast.archiving ? '' : ' (archiving is not configured)'}.{' '}
              <Anchor component="button" type="button" size="sm" onClick={() => navigate('settings')}>Retention settings</Anchor>
            </Text>
          ) : null}
        </Card>
      </SimpleGrid>
    </>
  )
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" w={160}>{label}</Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  )
}

function RecordDrawer() {
  const store = useMessageLogStore()
  const roles = useSessionStore((s) => s.session?.roles ?? [])
  const record = store.selected
  return (
    <Drawer
      opened={record !== null || store.detailsLoading}
      onClose={store.close}
      position="right"
      size="xl"
      title={record ? `${record.direction === 'request' ? 'Request' : 'Response'} ${record.queryId}` : 'Message record'}
      closeButtonProps={{ 'aria-label': 'Close the record details' }}
    >
      {store.detailsError ? <ErrorNotice error={store.detailsError} /> : null}
      {record === null ? <Loader aria-label="Loading the record" /> : (
        <Stack gap="md">
          <Table aria-label="Record details" withRowBorders={false}>
            <Table.Tbody>
              <Field label="Record">#{record.id}</Field>
              <Field label="Logged">{formatTime(record.loggedAt)}</Field>
              <Field label="Query id"><Code>{record.queryId}</Code></Field>
              {record.xRequestId ? <Field label="Request id"><Code>{record.xRequestId}</Code></Field> : null}
              <Field label="Client">{record.clientPath}</Field>
              <Field label="Service">{record.servicePath}</Field>
              <Field label="Status"><Badge color={STATUS_COLORS[record.status]} variant="light">{STATUS_WORDS[record.status]}</Badge></Field>
              <Field label="Time-stamp">{record.timestamp ? `${formatTime(record.timestamp.at)} by ${record.timestamp.tsaUrl}${record.timestamp.batch ? ' (batch)' : ''}` : 'not yet'}</Field>
              {record.archiveFile ? <Field label="Archive">{record.archiveFile}</Field> : null}
              <Field label="Message">{record.messageBytes} bytes{record.attachments.length > 0 ? `, ${record.attachments.length} attachment(s) of ${record.attachments.reduce((n, a) => n + a.size, 0)} bytes` : ''}</Field>
              <Field label="Signature hash"><Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }}>{record.signatureHash}</Text></Field>
            </Table.Tbody>
          </Table>
          <Group>
            <Button onClick={() => void store.exportEvidence()} loading={store.exporting} disabled={!mayReadBodies(roles)}>Export evidence</Button>
            <Button variant="light" onClick={() => void store.verify()} loading={store.verifying}>Verify evidence</Button>
          </Group>
          {!mayReadBodies(roles) ? <Text size="xs" c="dimmed">Exporting evidence and reading bodies needs the security officer or system administrator role.</Text> : null}
          {store.exported.length > 0 ? (
            <Alert color="blue" title="Evidence saved">
              <Text size="sm">{store.exported.length === 1 ? 'One ASiC-E container was' : `${store.exported.length} ASiC-E containers were`} downloaded: {store.exported.join(', ')}</Text>
            </Alert>
          ) : null}
          {store.verification ? <Verdicts verdicts={store.verification.containers} /> : null}
          <BodySection record={record} permitted={mayReadBodies(roles)} onShow={() => void store.showBody()} />
        </Stack>
      )}
    </Drawer>
  )
}

function Verdicts({ verdicts }: { verdicts: EvidenceVerdict[] }) {
  return (
    <Stack gap="sm" aria-label="Verification result" role="region">
      {verdicts.map((v) => (
        <Alert key={v.fileName} color={VERDICT_COLORS[v.verdict]} title={`${v.direction === 'response' ? 'Response' : v.direction === 'request' ? 'Request' : v.fileName}: ${VERDICT_TITLES[v.verdict]}`} data-testid={`verdict-${v.verdict}`}>
          <Text size="sm">{v.explanation}</Text>
          {v.signerCertificate ? <Text size="xs" mt={4}>Signer certificate: {v.signerCertificate.subject} (serial {v.signerCertificate.serialNumber})</Text> : null}
          {v.timestamp ? <Text size="xs">Time-stamp: {formatTime(v.timestamp.genTime)} by {v.timestamp.tsa}{v.timestamp.batch ? ' (batch)' : ''}</Text> : null}
          {v.ocsp ? <Text size="xs">OCSP: {v.ocsp.responder}, produced {formatTime(v.ocsp.producedAt)}</Text> : null}
          {v.code ? <Text size="xs" c="dimmed" mt={4}>Code for support: <Code>{v.code}</Code></Text> : null}
        </Alert>
      ))}
    </Stack>
  )
}

function BodySection({ record, permitted, onShow }: { record: MessageRecordDetails; permitted: boolean; onShow: () => void }) {
  if (record.bodyAccess === 'not-logged') return <Text size="sm" c="dimmed">Body logging was off for this message: only its metadata and signature were kept.</Text>
  if (!permitted || record.bodyAccess === 'not-permitted') return <Text size="sm" c="dimmed">The message body is visible only to security officers and system administrators.</Text>
  if (record.body === null) {
    return (
      <Group>
        <Button variant="default" onClick={onShow}>Show message body</Button>
        <Text size="xs" c="dimmed">Viewing a body is recorded in the audit log.</Text>
      </Group>
    )
  }
  return (
    <Stack gap="xs">
      <Title order={5}>Message</Title>
      <ScrollArea.Autosize mah={260}>
        <Code block aria-label="Message body">{record.body.message.encoding === 'utf8' ? record.body.message.content : `base64: ${record.body.message.content}`}</Code>
      </ScrollArea.Autosize>
      {record.body.attachments.map((a, i) => (
        <div key={a.position}>
          <Text size="sm" fw={600}>{record.body?.attachments.length === 1 ? 'Body' : `Attachment ${i + 1}`}</Text>
          <ScrollArea.Autosize mah={200}>
            <Code block>{a.content === null ? '(not logged)' : a.encoding === 'utf8' ? a.content : `base64: ${a.content}`}</Code>
          </ScrollArea.Autosize>
        </div>
      ))}
    </Stack>
  )
}
