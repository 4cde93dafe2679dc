import { Fragment, useEffect, type FormEvent, type ReactNode } from 'react'
import {
  ActionIcon, Alert, Anchor, Badge, Button, Card, Checkbox, Code, Drawer, Group, Loader, NativeSelect, ScrollArea, SimpleGrid, Stack, Table,
  Text, TextInput, Title,
} from '@mantine/core'
import {
  MAX_EVIDENCE_ZIP_EXCHANGES, MESSAGE_LOG_PAGE_SIZES,
  type EvidenceVerdict, type MessageExchange, type MessageLogPageSize, type MessageRecordDetails, type MessageRecordStatus,
} from '@shared/admin-api/admin-api'
import { useRouterStore } from '../../app/router-store'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { StatusLight } from '../../lib/StatusLight'
import { formatTime } from '../../lib/format-time'
import { useSessionStore } from '../login/session-store'
import { FilterError, exchangeStatus, mayReadBodies, useMessageLogStore } from './message-log-store'
import { forecastText, timestampingText, verdictText, type MessageLogT } from './message-log-texts'
import { EvidenceCard } from './EvidenceCard'

const VERDICT_COLORS: Record<EvidenceVerdict['verdict'], string> = { valid: 'green', invalid: 'red', 'not-verified': 'yellow' }
const STATUS_COLORS: Record<MessageRecordStatus, string> = { unstamped: 'yellow', timestamped: 'green', archived: 'gray' }
const OUTCOME_COLORS = { success: 'green', failure: 'red', unknown: 'gray' } as const
/** Long identifiers break after their separators (`.` of codes, `-` of query ids, `/` of paths), not mid-word. */
function Breakable({ text, after }: { text: string; after: string }) {
  const parts = text.split(after)
  return <>{parts.map((part, i) => <Fragment key={i}>{part}{i < parts.length - 1 ? <>{after}<wbr /></> : null}</Fragment>)}</>
}

/** An evidence time on two short lines: the date, then the time in UTC. */
function TwoLineTime({ value }: { value: string }) {
  const [date, ...rest] = formatTime(value).split(' ')
  return (
    <>
      <Text size="xs" style={{ whiteSpace: 'nowrap' }}>{date}</Text>
      <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>{rest.join(' ')}</Text>
    </>
  )
}

/** A record's time-stamping state as a coloured dot and words that wrap in narrow cells (never cut). */
function RecordStatus({ status }: { status: MessageRecordStatus }) {
  const t = useT('messageLog')
  const color = STATUS_COLORS[status]
  return (
    <Group gap={6} wrap="nowrap" align="center">
      <span aria-hidden style={{ flex: 'none', width: 8, height: 8, borderRadius: 4, background: `var(--mantine-color-${color}-6)` }} />
      <Text size="xs" fw={600} c={`${color}.9`}>{t(`status.${status}`)}</Text>
    </Group>
  )
}

/** Badges keep their whole word in every language (no "WORKI…"). */
const WHOLE_BADGE = { root: { maxWidth: 'none', minWidth: 'max-content' }, label: { overflow: 'visible', textOverflow: 'clip' } } as const

/**
 * Logged exchanges, newest first, one page at a time: each row one exchange (its request and response), with its
 * outcome from operational monitoring; open a row for its records and a record for its details, body, evidence and
 * verification; choose exchanges to save their evidence as one ZIP. Time-stamping status, disk forecast and evidence
 * continuity above.
 */
export function MessageLogPage() {
  const t = useT('messageLog')
  const { search, loadOverview, loadEvidence } = useMessageLogStore()
  useEffect(() => {
    void search()
    void loadOverview()
    void loadEvidence()
  }, [search, loadOverview, loadEvidence])
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>{t('title')}</Title>
        <Text c="dimmed" size="sm">{t('introduction')}</Text>
      </div>
      <Overview />
      <SearchForm />
      <Exchanges />
      <RecordDrawer />
    </Stack>
  )
}

function Overview() {
  const t = useT('messageLog', 'common')
  const { status, forecast, overviewError, stamping, timestampNow } = useMessageLogStore()
  const navigate = useRouterStore((r) => r.navigate)
  return (
    <>
      {overviewError ? <ErrorNotice error={overviewError} /> : null}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder radius="md" padding="lg" aria-label={t('timestamping.title')}>
          <Group justify="space-between" mb="xs" wrap="nowrap">
            <Text fw={600}>{t('timestamping.title')}</Text>
            {status ? <StatusLight light={status.light} /> : <Loader size="xs" aria-label={t('timestamping.loading')} />}
          </Group>
          <Text size="sm" c="dimmed" data-testid="timestamping-explanation">{status ? timestampingText(t, status) : ''}</Text>
          {status ? (
            <Group mt="sm" gap="lg">
              <Text size="sm">{t('timestamping.waitingLabel')} <b>{status.backlogCapped ? `> ${status.backlog}` : status.backlog}</b></Text>
              <Text size="sm">{t('timestamping.lastSuccessLabel')} <b>{status.lastSuccessAt ? formatTime(status.lastSuccessAt) : t('common:never')}</b></Text>
              <Button size="xs" variant="default" loading={stamping} onClick={() => void timestampNow()} disabled={status.backlog === 0}>{t('timestamping.stampNow')}</Button>
            </Group>
          ) : null}
        </Card>
        <Card withBorder radius="md" padding="lg" aria-label={t('forecast.title')}>
          <Group justify="space-between" mb="xs" wrap="nowrap">
            <Text fw={600}>{t('forecast.title')}</Text>
            {forecast ? <StatusLight light={forecast.light} /> : <Loader size="xs" aria-label={t('forecast.loading')} />}
          </Group>
          <Text size="sm" c="dimmed">{forecast ? forecastText(t, forecast) : ''}</Text>
          {forecast ? (
            <Text size="sm" mt="sm">
              {forecast.archiving ? t('forecast.retention', { days: forecast.keepRecordsForDays }) : t('forecast.retentionNoArchive', { days: forecast.keepRecordsForDays })}{' '}
              <Anchor component="button" type="button" size="sm" onClick={() => navigate('settings')}>{t('forecast.settings')}</Anchor>
            </Text>
          ) : null}
        </Card>
      </SimpleGrid>
      <EvidenceCard />
    </>
  )
}

function SearchForm() {
  const t = useT('messageLog')
  const { filter, setFilter, search, clearFilter, loading } = useMessageLogStore()
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    void search()
  }
  return (
    <Card withBorder radius="md" component="form" onSubmit={onSubmit} aria-label={t('filter.label')}>
      <Group align="flex-end" wrap="wrap" gap="sm">
        <TextInput type="datetime-local" label={t('filter.from')} value={filter.from} onChange={(e) => setFilter({ from: e.currentTarget.value })} />
        <TextInput type="datetime-local" label={t('filter.to')} value={filter.to} onChange={(e) => setFilter({ to: e.currentTarget.value })} />
        <TextInput label={t('filter.client')} placeholder={t('filter.clientExample')} value={filter.client} onChange={(e) => setFilter({ client: e.currentTarget.value })} />
        <TextInput label={t('filter.service')} placeholder={t('filter.serviceExample')} value={filter.service} onChange={(e) => setFilter({ service: e.currentTarget.value })} />
        <TextInput label={t('filter.queryId')} value={filter.queryId} onChange={(e) => setFilter({ queryId: e.currentTarget.value })} />
        <NativeSelect
          label={t('filter.direction')}
          data={[{ value: '', label: t('filter.bothDirections') }, { value: 'request', label: t('filter.requests') }, { value: 'response', label: t('filter.responses') }]}
          value={filter.direction}
          onChange={(e) => setFilter({ direction: e.currentTarget.value as typeof filter.direction })}
        />
        <NativeSelect
          label={t('filter.status')}
          data={[
            { value: '', label: t('filter.anyStatus') }, { value: 'unstamped', label: t('status.unstamped') },
            { value: 'timestamped', label: t('status.timestamped') }, { value: 'archived', label: t('status.archived') },
          ]}
          value={filter.status}
          onChange={(e) => setFilter({ status: e.currentTarget.value as typeof filter.status })}
        />
        <Button type="submit" loading={loading}>{t('filter.search')}</Button>
        <Button variant="default" onClick={() => { clearFilter(); void search() }}>{t('filter.clear')}</Button>
      </Group>
    </Card>
  )
}

function Exchanges() {
  const t = useT('messageLog')
  const store = useMessageLogStore()
  const roles = useSessionStore((s) => s.session?.roles ?? [])
  const permitted = mayReadBodies(roles)
  const exchanges = store.page?.exchanges ?? []
  const chosenOnPage = exchanges.filter((e) => store.selection.includes(e.queryId)).length
  return (
    <Stack gap="sm">
      {store.error instanceof FilterError ? <Alert color="red" role="alert">{t(store.error.problem)}</Alert> : store.error ? <ErrorNotice error={store.error} /> : null}
      <Card withBorder radius="md" padding={0}>
        <Group justify="space-between" p="sm" gap="sm" wrap="wrap">
          <Group gap="sm" wrap="wrap">
            <Text size="sm" data-testid="zip-chosen">{t('zip.chosen', { count: store.selection.length })}</Text>
            <Button
              size="xs"
              onClick={() => void store.exportZip()}
              loading={store.zipping}
              disabled={!permitted || store.selection.length === 0 || store.selection.length > MAX_EVIDENCE_ZIP_EXCHANGES}
            >
              {t('zip.export')}
            </Button>
            {store.selection.length > 0 ? <Button size="xs" variant="subtle" onClick={store.clearSelection}>{t('zip.clear')}</Button> : null}
          </Group>
          <Pager />
        </Group>
        {!permitted ? <Text size="xs" c="dimmed" px="sm" pb="xs">{t('zip.needsRole')}</Text> : null}
        {store.selection.length > MAX_EVIDENCE_ZIP_EXCHANGES ? <Text size="xs" c="red" px="sm" pb="xs">{t('zip.limit', { max: MAX_EVIDENCE_ZIP_EXCHANGES })}</Text> : null}
        {store.zipError ? <div style={{ padding: '0 var(--mantine-spacing-sm) var(--mantine-spacing-sm)' }}><ErrorNotice error={store.zipError} /></div> : null}
        {store.zipSaved ? (
          <Alert color="blue" mx="sm" mb="sm" data-testid="zip-saved">
            <Text size="sm">{t('zip.saved', { count: store.zipSaved.exchanges, fileName: store.zipSaved.fileName })}</Text>
          </Alert>
        ) : null}
        <Table.ScrollContainer minWidth={720}>
          <Table striped highlightOnHover verticalSpacing="xs" aria-label={t('table.label')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={36}>
                  <Checkbox
                    aria-label={t('table.choosePage')}
                    checked={exchanges.length > 0 && chosenOnPage === exchanges.length}
                    indeterminate={chosenOnPage > 0 && chosenOnPage < exchanges.length}
                    onChange={(e) => store.selectPage(e.currentTarget.checked)}
                    disabled={exchanges.length === 0}
                  />
                </Table.Th>
                <Table.Th w={36} />
                <Table.Th w={110}>{t('table.logged')}</Table.Th>
                <Table.Th miw={240}>{t('table.exchange')}</Table.Th>
                <Table.Th>{t('table.outcome')}</Table.Th>
                <Table.Th>{t('table.evidence')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {exchanges.length === 0 ? (
                <Table.Tr>
                  <Table.Td colSpan={6}><Text size="sm" c="dimmed" ta="center" py="md">{store.page === null ? t('table.searching') : t('table.empty')}</Text></Table.Td>
                </Table.Tr>
              ) : (
                exchanges.map((e) => <ExchangeRows key={e.queryId} exchange={e} permitted={permitted} />)
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Group justify="flex-end" p="sm"><Pager /></Group>
      </Card>
    </Stack>
  )
}

function Pager() {
  const t = useT('messageLog')
  const { page, pageSize, move, setPageSize, loading } = useMessageLogStore()
  const count = page?.exchanges.length ?? 0
  return (
    <Group gap="xs" wrap="wrap" justify="flex-end" role="navigation" aria-label={t('pager.label')}>
      <Text size="xs" c="dimmed">
        {t('pager.shown', { count })}{page ? ` · ${page.older === null ? t('pager.end') : t('pager.more')}` : ''}
      </Text>
      <Button.Group>
        <Button size="xs" variant="default" onClick={() => void move('newest')} disabled={loading || page?.newer === null}>{t('pager.newest')}</Button>
        <Button size="xs" variant="default" onClick={() => void move('newer')} disabled={loading || !page?.newer}>{t('pager.newer')}</Button>
        <Button size="xs" variant="default" onClick={() => void move('older')} disabled={loading || !page?.older}>{t('pager.older')}</Button>
        <Button size="xs" variant="default" onClick={() => void move('oldest')} disabled={loading || page?.older === null}>{t('pager.oldest')}</Button>
      </Button.Group>
      <Group gap={4} wrap="nowrap">
        <Text size="xs" c="dimmed" component="span" aria-hidden>{t('pager.pageSize')}</Text>
        <NativeSelect
          size="xs"
          w={72}
          aria-label={t('pager.pageSize')}
          data={MESSAGE_LOG_PAGE_SIZES.map((n) => String(n))}
          value={String(pageSize)}
          onChange={(e) => void setPageSize(Number(e.currentTarget.value) as MessageLogPageSize)}
        />
      </Group>
    </Group>
  )
}

function Outcome({ exchange }: { exchange: MessageExchange }) {
  const t = useT('messageLog')
  const { outcome } = exchange
  const sides = outcome.sides.length === 2 ? t('outcome.sides.both') : outcome.sides[0] === undefined ? null : t(`outcome.sides.${outcome.sides[0]}`)
  return (
    <Stack gap={2} align="flex-start">
      <Badge color={OUTCOME_COLORS[outcome.result]} variant="light" styles={WHOLE_BADGE} title={outcome.result === 'unknown' ? t('outcome.unknownHint') : sides ?? undefined}>
        {t(`outcome.${outcome.result}`)}
      </Badge>
      {outcome.faultCode ? <Text size="xs" ff="monospace" data-testid="fault-code"><Breakable text={outcome.faultCode} after="." /></Text> : null}
      {outcome.result !== 'unknown' && outcome.statusCode !== null && outcome.faultCode === null ? <Text size="xs" c="dimmed">{t('outcome.http', { status: outcome.statusCode })}</Text> : null}
    </Stack>
  )
}

function ExchangeRows({ exchange, permitted }: { exchange: MessageExchange; permitted: boolean }) {
  const t = useT('messageLog')
  const store = useMessageLogStore()
  const open = store.expanded.includes(exchange.queryId)
  const status = exchangeStatus(exchange)
  return (
    <Fragment>
      <Table.Tr aria-expanded={open} data-testid="exchange-row" data-query-id={exchange.queryId}>
        <Table.Td>
          <Checkbox
            aria-label={t('table.chooseExchange', { queryId: exchange.queryId })}
            checked={store.selection.includes(exchange.queryId)}
            onChange={() => store.toggleSelected(exchange.queryId)}
          />
        </Table.Td>
        <Table.Td>
          <ActionIcon
            variant="subtle"
            data-testid="expand-exchange"
            aria-label={open ? t('table.collapse', { queryId: exchange.queryId }) : t('table.expand', { queryId: exchange.queryId })}
            onClick={() => store.toggleExpanded(exchange.queryId)}
          >
            <span aria-hidden>{open ? '▾' : '▸'}</span>
          </ActionIcon>
        </Table.Td>
        <Table.Td><TwoLineTime value={exchange.firstLoggedAt} /></Table.Td>
        <Table.Td>
          <Text size="xs" ff="monospace" style={{ overflowWrap: 'anywhere' }}><Breakable text={exchange.queryId} after="-" /></Text>
          <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
            <Breakable text={exchange.clientPath} after="/" />{' → '}<Breakable text={exchange.servicePath} after="/" />
          </Text>
        </Table.Td>
        <Table.Td><Outcome exchange={exchange} /></Table.Td>
        <Table.Td>
          <Stack gap={2} align="flex-start">
            <RecordStatus status={status} />
            <Text size="xs" c="dimmed">{t('table.records', { count: exchange.records.length })}</Text>
          </Stack>
        </Table.Td>
      </Table.Tr>
      {open ? (
        <Table.Tr>
          <Table.Td />
          <Table.Td colSpan={5}>
            <Stack gap="xs">
              <Table withRowBorders={false} verticalSpacing={4} aria-label={t('table.recordsLabel', { queryId: exchange.queryId })}>
                <Table.Tbody>
                  {exchange.records.map((r) => (
                    <Table.Tr key={r.id}>
                      <Table.Td><Text size="sm" fw={600}>{t(`direction.${r.direction}`)}</Text></Table.Td>
                      <Table.Td><Text size="sm">{formatTime(r.loggedAt)}</Text></Table.Td>
                      <Table.Td><RecordStatus status={r.status} /></Table.Td>
                      <Table.Td>
                        <Button size="xs" variant="light" data-testid="open-record" onClick={() => void store.open(r.id)} aria-label={t(r.direction === 'request' ? 'table.openRequest' : 'table.openResponse', { queryId: r.queryId })}>
                          {t('table.open')}
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              {exchange.moreRecords ? <Text size="xs" c="dimmed">{t('table.moreRecords')}</Text> : null}
              {exchange.outcome.faultString ? <Text size="xs" c="red">{exchange.outcome.faultString}</Text> : null}
              {exchange.outcome.result === 'unknown' ? <Text size="xs" c="dimmed">{t('outcome.unknownHint')}</Text> : null}
              <Group>
                <Button size="xs" variant="default" disabled={!permitted} loading={store.zipping} onClick={() => void store.exportZip([exchange.queryId])} aria-label={t('table.exportOneLabel', { queryId: exchange.queryId })}>
                  {t('table.exportOne')}
                </Button>
              </Group>
            </Stack>
          </Table.Td>
        </Table.Tr>
      ) : null}
    </Fragment>
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

function messageSize(t: MessageLogT, record: MessageRecordDetails): string {
  if (record.attachments.length === 0) return t('messageLog:record.bytes', { bytes: record.messageBytes })
  const size = record.attachments.reduce((n, a) => n + a.size, 0)
  return t('messageLog:record.bytesWithAttachments', { bytes: record.messageBytes, count: record.attachments.length, size })
}

function RecordDrawer() {
  const t = useT('messageLog')
  const store = useMessageLogStore()
  const roles = useSessionStore((s) => s.session?.roles ?? [])
  const record = store.selected
  return (
    <Drawer
      opened={record !== null || store.detailsLoading}
      onClose={store.close}
      position="right"
      size="xl"
      title={record ? t('record.title', { direction: t(`direction.${record.direction}`), queryId: record.queryId }) : t('record.drawer')}
      closeButtonProps={{ 'aria-label': t('record.close') }}
    >
      {store.detailsError ? <ErrorNotice error={store.detailsError} /> : null}
      {record === null ? <Loader aria-label={t('record.loading')} /> : (
        <Stack gap="md">
          <Table aria-label={t('record.details')} withRowBorders={false}>
            <Table.Tbody>
              <Field label={t('record.id')}>#{record.id}</Field>
              <Field label={t('record.logged')}>{formatTime(record.loggedAt)}</Field>
              <Field label={t('record.queryId')}><Code>{record.queryId}</Code></Field>
              {record.xRequestId ? <Field label={t('record.requestId')}><Code>{record.xRequestId}</Code></Field> : null}
              <Field label={t('record.client')}>{record.clientPath}</Field>
              <Field label={t('record.service')}>{record.servicePath}</Field>
              <Field label={t('record.status')}><Badge color={STATUS_COLORS[record.status]} variant="light" styles={WHOLE_BADGE}>{t(`status.${record.status}`)}</Badge></Field>
              <Field label={t('record.timestamp')}>
                {record.timestamp
                  ? t(record.timestamp.batch ? 'record.timestampBatchBy' : 'record.timestampBy', { time: formatTime(record.timestamp.at), tsa: record.timestamp.tsaUrl })
                  : t('record.notYet')}
              </Field>
              {record.archiveFile ? <Field label={t('record.archive')}>{record.archiveFile}</Field> : null}
              <Field label={t('record.message')}>{messageSize(t, record)}</Field>
              <Field label={t('record.signatureHash')}><Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }}>{record.signatureHash}</Text></Field>
            </Table.Tbody>
          </Table>
          <Group>
            <Button onClick={() => void store.exportEvidence()} loading={store.exporting} disabled={!mayReadBodies(roles)}>{t('record.export')}</Button>
            <Button variant="default" onClick={() => void store.exportZip([record.queryId])} loading={store.zipping} disabled={!mayReadBodies(roles)}>{t('table.exportOne')}</Button>
            <Button variant="light" data-testid="verify-evidence" onClick={() => void store.verify()} loading={store.verifying}>{t('record.verify')}</Button>
          </Group>
          {!mayReadBodies(roles) ? <Text size="xs" c="dimmed">{t('zip.needsRole')}</Text> : null}
          {store.zipSaved ? <Text size="sm" c="blue">{t('zip.saved', { count: store.zipSaved.exchanges, fileName: store.zipSaved.fileName })}</Text> : null}
          {store.zipError ? <ErrorNotice error={store.zipError} /> : null}
          {store.exported.length > 0 ? (
            <Alert color="blue" title={t('record.saved')}>
              <Text size="sm">{t('record.savedText', { count: store.exported.length, files: store.exported.join(', ') })}</Text>
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
  const t = useT('messageLog')
  return (
    <Stack gap="sm" aria-label={t('verdict.region')} role="region">
      {verdicts.map((v) => (
        <Alert
          key={v.fileName}
          color={VERDICT_COLORS[v.verdict]}
          title={t('verdict.titled', { what: v.direction === null ? v.fileName : t(`direction.${v.direction}`), verdict: t(`verdict.${v.verdict}`) })}
          data-testid={`verdict-${v.verdict}`}
        >
          <Text size="sm">{verdictText(t, v)}</Text>
          {v.signerCertificate ? <Text size="xs" mt={4}>{t('verdict.signerCertificate', { subject: v.signerCertificate.subject, serial: v.signerCertificate.serialNumber })}</Text> : null}
          {v.timestamp ? <Text size="xs">{t(v.timestamp.batch ? 'verdict.timestampBatch' : 'verdict.timestamp', { time: formatTime(v.timestamp.genTime), tsa: v.timestamp.tsa })}</Text> : null}
          {v.ocsp ? <Text size="xs">{t('verdict.ocsp', { responder: v.ocsp.responder, time: formatTime(v.ocsp.producedAt) })}</Text> : null}
          {v.code ? <Text size="xs" c="dimmed" mt={4}>{t('verdict.code')} <Code>{v.code}</Code></Text> : null}
        </Alert>
      ))}
    </Stack>
  )
}

function BodySection({ record, permitted, onShow }: { record: MessageRecordDetails; permitted: boolean; onShow: () => void }) {
  const t = useT('messageLog')
  if (record.bodyAccess === 'not-logged') return <Text size="sm" c="dimmed">{t('body.notLogged')}</Text>
  if (!permitted || record.bodyAccess === 'not-permitted') return <Text size="sm" c="dimmed">{t('body.notPermitted')}</Text>
  if (record.body === null) {
    return (
      <Group>
        <Button variant="default" onClick={onShow}>{t('body.show')}</Button>
        <Text size="xs" c="dimmed">{t('body.audited')}</Text>
      </Group>
    )
  }
  const part = (encoding: 'utf8' | 'base64', content: string | null): string =>
    content === null ? t('body.notLoggedPart') : encoding === 'utf8' ? content : t('body.base64', { content })
  return (
    <Stack gap="xs">
      <Title order={5}>{t('body.message')}</Title>
      <ScrollArea.Autosize mah={260}>
        <Code block aria-label={t('body.label')}>{part(record.body.message.encoding, record.body.message.content)}</Code>
      </ScrollArea.Autosize>
      {record.body.attachments.map((a, i) => (
        <div key={a.position}>
          <Text size="sm" fw={600}>{record.body?.attachments.length === 1 ? t('body.body') : t('body.attachment', { n: i + 1 })}</Text>
          <ScrollArea.Autosize mah={200}>
            <Code block>{part(a.encoding, a.content)}</Code>
          </ScrollArea.Autosize>
        </div>
      ))}
    </Stack>
  )
}
