import { useEffect, useState } from 'react'
import {
  ActionIcon, Alert, Badge, Button, Card, Checkbox, Code, FileButton, Group, Loader, Modal, Radio, SimpleGrid, Stack, Table, Text, Textarea, Title,
} from '@mantine/core'
import type { AnchorPreview, TimestampingServicesDto } from '@shared/admin-api/admin-api'
import { formatDateTime, formatNumber, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError, isFieldError } from '../../lib/field-error'
import { saveFile } from '../../lib/save-file'
import { StatusLight } from '../../lib/StatusLight'
import { useSessionStore } from '../login/session-store'
import { freshnessText, useGlobalConfStore } from './global-conf-store'
import { EditButton } from '../../lib/read-only'

const when = (iso: string | null): string => (iso === null ? '–' : formatDateTime(iso))

/**
 * Global configuration: freshness and expiry, the configuration anchor (download, re-import with its hash confirmed),
 * the time-stamping services used and their order (ug-ss §10.2), and the instance's members and servers.
 */
export function GlobalConfPage() {
  const t = useT('globalConf')
  const { status, members, servers, loading, error, load, refresh, clearError } = useGlobalConfStore()
  const isAdmin = useSessionStore((s) => s.session?.roles.includes('system-administrator') ?? false)
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end">
        <div style={{ flex: 1, minWidth: 280 }}>
          <Title order={2}>{t('title')}</Title>
          <Text c="dimmed" size="sm">{t('pageIntro')}</Text>
        </div>
        <Button variant="default" onClick={() => void refresh()} loading={loading} disabled={!status?.anchorImported}>{t('downloadNow')}</Button>
      </Group>
      {error ? <ErrorNotice error={error} onClose={clearError} /> : null}
      {status ? (
        <Card withBorder data-testid="global-conf-status">
          <Group justify="space-between" mb="xs"><Text fw={600}>{t('status.title')}</Text><StatusLight light={status.light} /></Group>
          <Text size="sm" mb="sm">{freshnessText(status)}</Text>
          <SimpleGrid cols={{ base: 2, sm: 4 }}>
            <Fact label={t('status.instance')} value={status.instance ?? '–'} />
            <Fact label={t('status.version')} value={status.version === null ? '–' : String(status.version)} />
            <Fact label={t('status.downloaded')} value={when(status.downloadedAt)} />
            <Fact label={t('status.expires')} value={when(status.expiresAt)} />
            <Fact label={t('status.members')} value={formatNumber(status.memberCount)} />
            <Fact label={t('status.servers')} value={formatNumber(status.serverCount)} />
            <Fact label={t('status.cas')} value={formatNumber(status.approvedCaCount)} />
            <Fact label={t('status.tsas')} value={formatNumber(status.tsaCount)} />
          </SimpleGrid>
          {status.sources.length > 0 ? <Text size="xs" c="dimmed" mt="sm" style={{ overflowWrap: 'anywhere' }}>{t('status.source', { sources: status.sources.join(', ') })}</Text> : null}
          {status.lastError ? <Text size="sm" c="red" mt="xs">{t('status.lastError', { error: status.lastError })}</Text> : null}
        </Card>
      ) : null}
      <AnchorCard isAdmin={isAdmin} />
      <TimestampingCard isAdmin={isAdmin} />
      <Card withBorder>
        <Title order={4} mb="sm">{t('members.title')}</Title>
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label={t('members.table')}>
            <Table.Thead><Table.Tr><Table.Th>{t('members.member')}</Table.Th><Table.Th>{t('members.name')}</Table.Th><Table.Th>{t('members.subsystems')}</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {members.map((m) => (
                <Table.Tr key={m.id}>
                  <Table.Td>{m.id.replace(/^MEMBER:/, '')}</Table.Td><Table.Td>{m.name}</Table.Td>
                  <Table.Td>{m.subsystems.map((s) => s.split('/').at(-1)).join(', ')}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
      <Card withBorder>
        <Title order={4} mb="sm">{t('servers.title')}</Title>
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label={t('servers.table')}>
            <Table.Thead><Table.Tr><Table.Th>{t('servers.server')}</Table.Th><Table.Th>{t('servers.address')}</Table.Th><Table.Th>{t('servers.clients')}</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {servers.map((s) => (
                <Table.Tr key={s.id}>
                  <Table.Td>{s.id.replace(/^SERVER:/, '')}</Table.Td><Table.Td>{s.address ?? '–'}</Table.Td><Table.Td>{formatNumber(s.clients.length)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
    </Stack>
  )
}

function Fact({ label, value }: { label: string; value: string }) {
  return <div><Text size="xs" c="dimmed">{label}</Text><Text size="sm">{value}</Text></div>
}

function AnchorCard({ isAdmin }: { isAdmin: boolean }) {
  const t = useT('globalConf')
  const { anchor, downloadAnchor } = useGlobalConfStore()
  const [importing, setImporting] = useState(false)
  const download = async (): Promise<void> => {
    const file = await downloadAnchor()
    if (file !== null) saveFile(file.fileName, 'application/xml', file.content, 'utf8')
  }
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Title order={4}>{t('anchor.title')}</Title>
        {anchor ? (
          <Group gap="xs">
            <Button size="xs" variant="default" onClick={() => void download()}>{t('anchor.download')}</Button>
            {isAdmin ? <EditButton size="xs" onClick={() => setImporting(true)}>{t('anchor.import')}</EditButton> : null}
          </Group>
        ) : null}
      </Group>
      <Text size="sm" c="dimmed" mb="sm">{t('anchor.intro')}</Text>
      {anchor ? (
        <Stack gap={6}>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Fact label={t('anchor.instance')} value={anchor.instance} />
            <Fact label={t('anchor.stored')} value={when(anchor.storedAt)} />
          </SimpleGrid>
          <div><Text size="xs" c="dimmed">{t('anchor.hash')}</Text><Code data-testid="current-anchor-hash" style={{ overflowWrap: 'anywhere', whiteSpace: 'normal' }}>{anchor.hash}</Code></div>
          {isAdmin ? null : <Text size="xs" c="dimmed">{t('anchor.onlyAdmins')}</Text>}
        </Stack>
      ) : <Text size="sm">{t('anchor.none')}</Text>}
      {anchor ? <ReimportDialog opened={importing} serverInstance={anchor.instance} onClose={() => setImporting(false)} /> : null}
    </Card>
  )
}

function ReimportDialog({ opened, serverInstance, onClose }: { opened: boolean; serverInstance: string; onClose: () => void }) {
  const t = useT('globalConf', 'common')
  const { previewAnchor, replaceAnchor } = useGlobalConfStore()
  const [xml, setXml] = useState('')
  const [preview, setPreview] = useState<AnchorPreview | null>(null)
  const [confirmed, setConfirmed] = useState(false)
  const [busy, setBusy] = useState(false)
  const [done, setDone] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const reset = (): void => {
    setPreview(null)
    setConfirmed(false)
    setError(null)
  }
  const close = (): void => {
    setXml('')
    setDone(false)
    reset()
    onClose()
  }
  const check = (text: string): void => {
    reset()
    setBusy(true)
    previewAnchor(text, serverInstance).then(setPreview, setError).finally(() => setBusy(false))
  }
  const replace = (): void => {
    if (preview === null) return
    setBusy(true)
    setError(null)
    replaceAnchor(xml, preview.hash, serverInstance).then(() => setDone(true), setError).finally(() => setBusy(false))
  }
  const fields = ['anchorXml', 'confirmedHash']
  return (
    <Modal opened={opened} onClose={close} title={t('reimport.title')} size="lg">
      {done ? (
        <Stack gap="sm">
          <Alert color="green" role="status">{t('reimport.replaced')}</Alert>
          <Group justify="flex-end"><Button onClick={close}>{t('common:actions.close')}</Button></Group>
        </Stack>
      ) : preview === null ? (
        <Stack gap="sm">
          <Text size="sm">{t('reimport.intro', { instance: serverInstance })}</Text>
          <FileButton accept=".xml,application/xml,text/xml" onChange={(file) => {
            if (file === null) return
            void file.text().then((text) => {
              setXml(text)
              check(text)
            })
          }}>
            {(props) => <Button variant="default" {...props}>{t('reimport.chooseFile')}</Button>}
          </FileButton>
          <Textarea
            label={t('reimport.xml')} autosize minRows={4} maxRows={10} value={xml} onChange={(e) => setXml(e.currentTarget.value)}
            styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} error={fieldError(error, 'anchorXml')}
          />
          {error !== null && !isFieldError(error, fields) ? <ErrorNotice error={error} /> : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>{t('common:actions.cancel')}</Button>
            <Button onClick={() => check(xml)} loading={busy} disabled={xml.trim() === ''}>{t('reimport.check')}</Button>
          </Group>
        </Stack>
      ) : (
        <Stack gap="sm">
          <Text size="sm">{t('reimport.previewInstance', { instance: preview.instance, generated: when(preview.generatedAt) })}</Text>
          <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{t('reimport.previewSources', { sources: preview.sources.join(', ') })}</Text>
          <Text size="sm">{t('reimport.compare')}</Text>
          <Code block data-testid="anchor-hash" style={{ overflowWrap: 'anywhere', whiteSpace: 'pre-wrap' }}>{preview.hash}</Code>
          <Checkbox label={t('reimport.confirmHash')} checked={confirmed} onChange={(e) => setConfirmed(e.currentTarget.checked)} />
          {busy ? <Alert color="blue" icon={<Loader size="sm" />} role="status">{t('reimport.verifying')}</Alert> : null}
          {error !== null ? <ErrorNotice error={error} /> : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={reset}>{t('reimport.back')}</Button>
            <Button onClick={replace} loading={busy} disabled={!confirmed}>{t('reimport.replace')}</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  )
}

function TimestampingCard({ isAdmin }: { isAdmin: boolean }) {
  const t = useT('globalConf')
  const tsas = useGlobalConfStore((s) => s.tsas)
  // Kept here: the selection below starts afresh from what the server saved.
  const [saved, setSaved] = useState<string | null>(null)
  return (
    <Card withBorder>
      <Title order={4} mb={4}>{t('tsa.title')}</Title>
      <Text size="sm" c="dimmed" mb="sm">{t('tsa.intro')}</Text>
      {tsas === null ? null : !tsas.available ? <Text size="sm">{t('tsa.notAvailable')}</Text> : tsas.approved.length === 0 ? <Text size="sm">{t('tsa.none')}</Text> : (
        <TimestampingSelection key={tsas.selected.join('\n')} tsas={tsas} isAdmin={isAdmin} onSaved={setSaved} />
      )}
      {saved !== null ? <Alert color="green" role="status" mt="sm" withCloseButton onClose={() => setSaved(null)}>{saved}</Alert> : null}
    </Card>
  )
}

function TimestampingSelection({ tsas, isAdmin, onSaved }: { tsas: TimestampingServicesDto; isAdmin: boolean; onSaved: (text: string | null) => void }) {
  const t = useT('globalConf')
  const selectTsas = useGlobalConfStore((s) => s.selectTsas)
  const approvedNames = tsas.approved.map((a) => a.name)
  const [mode, setMode] = useState<'all' | 'chosen'>(tsas.selected.length === 0 ? 'all' : 'chosen')
  // Chosen names first in their order, then the other approved ones; `used` says which of them are chosen.
  const [order, setOrder] = useState<string[]>(() => [...tsas.selected.filter((n) => approvedNames.includes(n)), ...approvedNames.filter((n) => !tsas.selected.includes(n))])
  const [used, setUsed] = useState<Set<string>>(() => new Set(tsas.selected))
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const chosen = order.filter((n) => used.has(n))
  const names = mode === 'all' ? [] : chosen
  const unchanged = names.join('\n') === tsas.selected.join('\n')
  const notApproved = tsas.selected.filter((n) => !approvedNames.includes(n))
  const urlOf = (name: string): string => tsas.approved.find((a) => a.name === name)?.url ?? ''
  const move = (index: number, by: -1 | 1): void => {
    const next = [...order]
    const [item] = next.splice(index, 1)
    next.splice(index + by, 0, item as string)
    setOrder(next)
  }
  const save = (): void => {
    setBusy(true)
    setError(null)
    onSaved(null)
    selectTsas(names).then((result) => onSaved(t('tsa.saved', { names: result.inUse.join(', ') })), setError).finally(() => setBusy(false))
  }
  return (
    <Stack gap="sm">
      {isAdmin ? (
        <Radio.Group value={mode} onChange={(v) => setMode(v as 'all' | 'chosen')}>
          <Stack gap={6}>
            <Radio value="all" label={t('tsa.modeAll')} />
            <Radio value="chosen" label={t('tsa.modeChosen')} />
          </Stack>
        </Radio.Group>
      ) : <Text size="xs" c="dimmed">{t('tsa.onlyAdmins')}</Text>}
      <Table.ScrollContainer minWidth={620}>
        <Table aria-label={t('tsa.table')} verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              {isAdmin && mode === 'chosen' ? <><Table.Th>{t('tsa.use')}</Table.Th><Table.Th>{t('tsa.order')}</Table.Th></> : null}
              <Table.Th>{t('tsa.name')}</Table.Th><Table.Th>{t('tsa.url')}</Table.Th><Table.Th>{t('tsa.state')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(mode === 'chosen' ? order : approvedNames).map((name, index) => (
              <Table.Tr key={name}>
                {isAdmin && mode === 'chosen' ? (
                  <>
                    <Table.Td>
                      <Checkbox aria-label={t('tsa.useService', { name })} checked={used.has(name)} onChange={(e) => {
                        const next = new Set(used)
                        if (e.currentTarget.checked) next.add(name)
                        else next.delete(name)
                        setUsed(next)
                      }} />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={2} wrap="nowrap">
                        <ActionIcon size="sm" variant="subtle" disabled={index === 0} onClick={() => move(index, -1)} aria-label={t('tsa.moveUp', { name })}>↑</ActionIcon>
                        <ActionIcon size="sm" variant="subtle" disabled={index === order.length - 1} onClick={() => move(index, 1)} aria-label={t('tsa.moveDown', { name })}>↓</ActionIcon>
                      </Group>
                    </Table.Td>
                  </>
                ) : null}
                <Table.Td><Text size="sm" fw={500}>{name}</Text></Table.Td>
                <Table.Td><Text size="sm" style={{ overflowWrap: 'anywhere' }}>{urlOf(name)}</Text></Table.Td>
                <Table.Td>
                  {tsas.inUse.includes(name)
                    ? <Badge color="green" variant="light" tt="none" style={{ maxWidth: 'none', minWidth: 'max-content' }}>{t('tsa.inUse')}</Badge>
                    : <Badge color="gray" variant="light" tt="none" style={{ maxWidth: 'none', minWidth: 'max-content' }}>{t('tsa.notUsed')}</Badge>}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Text size="sm" data-testid="tsa-in-use">{tsas.inUse.length === 0 ? t('tsa.nothingInUse') : t('tsa.currentOrder', { names: tsas.inUse.join(' → ') })}</Text>
      {notApproved.length > 0 ? <Alert color="orange">{t('tsa.notApproved', { names: notApproved.join(', ') })}</Alert> : null}
      {isAdmin && mode === 'chosen' && chosen.length === 0 ? <Text size="sm" c="orange">{t('tsa.chooseOne')}</Text> : null}
      {error !== null ? <ErrorNotice error={error} /> : null}
      {isAdmin ? (
        <Group justify="flex-end">
          <EditButton onClick={save} loading={busy} disabled={unchanged || (mode === 'chosen' && chosen.length === 0)}>{t('tsa.save')}</EditButton>
        </Group>
      ) : null}
    </Stack>
  )
}
