import { useState, type FormEvent, type ReactNode } from 'react'
import { Badge, Button, Card, FileButton, Group, List, Modal, SegmentedControl, Select, Stack, Text, TextInput, Title } from '@mantine/core'
import type { DescriptionWarningDto, ServiceDescriptionChangeDto, ServiceDescriptionDto, ServiceDescriptionType } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { DisableWithNoticeDialog, urlProblem } from './ServiceDialogs'
import { FULL_BADGE, atField, fieldMessage, useSubjectName } from './ServicesParts'
import { rightsOn, serviceName, serviceNameOfId, shortId, useServicesStore } from './services-store'
import { EditButton } from '../../lib/read-only'

/**
 * Service descriptions on the Services tab (UG-SS §6.1): adding a WSDL or an OpenAPI 3 description (by URL, or as a
 * JSON file), and a description's card with its state, Refresh (the services or endpoints it adds and removes are
 * shown, and who loses access, before anything changes), Enable/Disable with the notice callers get, and Delete.
 */
export type AddKind = 'REST' | 'WSDL' | 'OPENAPI3'

/** The words for a description type: REST, WSDL, OpenAPI 3 (the same in every language). */
export function useTypeLabel(): (type: ServiceDescriptionType) => string {
  const t = useT('services')
  return (type) => t(`descriptions.type.${type}`)
}

/** Chooses what to add; the REST form is the existing one (`restForm`), WSDL and OpenAPI 3 forms are here. */
export function AddDescriptionForms({ subsystems, restForm }: { subsystems: string[]; restForm: ReactNode }) {
  const t = useT('services')
  const typeLabel = useTypeLabel()
  const [kind, setKind] = useState<AddKind>('REST')
  return (
    <Stack gap="sm">
      <Group gap="sm" wrap="wrap">
        <Text size="sm" fw={500} id="add-description-kind">{t('descriptions.kind')}</Text>
        <SegmentedControl aria-labelledby="add-description-kind" value={kind} onChange={(v) => setKind(v as AddKind)}
          data={(['REST', 'WSDL', 'OPENAPI3'] as const).map((value) => ({ value, label: typeLabel(value) }))} />
      </Group>
      {kind === 'REST' ? restForm : kind === 'WSDL' ? <AddWsdlForm subsystems={subsystems} /> : <AddOpenApiForm subsystems={subsystems} />}
    </Stack>
  )
}

function ProviderSelect({ subsystems, value, onChange, error }: { subsystems: string[]; value: string | null; onChange(v: string | null): void; error: unknown }) {
  const t = useT('services')
  return (
    <Select label={t('services.provider')} data={subsystems.map((id) => ({ value: id, label: shortId(id) }))} value={value} onChange={onChange}
      allowDeselect={false} miw={220} error={fieldMessage(error, 'client')} />
  )
}

function AddWsdlForm({ subsystems }: { subsystems: string[] }) {
  const t = useT('services')
  const { addWsdl } = useServicesStore()
  const [client, setClient] = useState<string | null>(null)
  const [url, setUrl] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [added, setAdded] = useState<ServiceDescriptionDto | null>(null)
  const chosen = client !== null && subsystems.includes(client) ? client : (subsystems[0] ?? null)
  const problem = urlProblem(url)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (chosen === null) return
    setBusy(true)
    setError(null)
    setAdded(null)
    addWsdl({ client: chosen, url: url.trim() }).then((d) => {
      setAdded(d)
      setUrl('')
    }).catch(setError).finally(() => setBusy(false))
  }
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('descriptions.addWsdlTitle')}>
      <Title order={5}>{t('descriptions.addWsdlTitle')}</Title>
      <Text size="sm" c="dimmed">{t('descriptions.addWsdlIntro')}</Text>
      <ProviderSelect subsystems={subsystems} value={chosen} onChange={setClient} error={error} />
      <TextInput label={t('descriptions.wsdlUrl')} description={t('descriptions.wsdlUrlHint')} value={url} onChange={(e) => setUrl(e.currentTarget.value)}
        error={problem === undefined ? fieldMessage(error, 'url') : t('services.urlProblem')} />
      {error !== null && !atField(error, ['client', 'url']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      {added !== null ? <Text size="sm" role="status">{t('descriptions.addedDisabled', { count: added.services.length, notice: added.disabledNotice ?? '' })}</Text> : null}
      <Group justify="flex-end">
        <Button type="submit" loading={busy} disabled={url.trim() === '' || problem !== undefined}>{t('descriptions.addWsdl')}</Button>
      </Group>
    </Stack>
  )
}

/** Largest file sent in one admin call: the admin API takes requests up to 1 MiB, and base64 adds a third. */
const MAX_UPLOAD_BYTES = 700 * 1024

/** File bytes in base64 for the admin API. */
async function fileBase64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer())
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

function AddOpenApiForm({ subsystems }: { subsystems: string[] }) {
  const t = useT('services', 'common')
  const { addOpenApi } = useServicesStore()
  const [client, setClient] = useState<string | null>(null)
  const [code, setCode] = useState('')
  const [source, setSource] = useState<'url' | 'file'>('url')
  const [url, setUrl] = useState('')
  const [file, setFile] = useState<{ name: string; contentBase64: string } | null>(null)
  const [tooLarge, setTooLarge] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [warnings, setWarnings] = useState<DescriptionWarningDto[] | null>(null)
  const [added, setAdded] = useState<ServiceDescriptionDto | null>(null)
  const chosen = client !== null && subsystems.includes(client) ? client : (subsystems[0] ?? null)
  const problem = source === 'url' ? urlProblem(url) : undefined
  const send = (ignoreWarnings: boolean): void => {
    if (chosen === null) return
    setBusy(true)
    setError(null)
    setAdded(null)
    addOpenApi({ client: chosen, serviceCode: code.trim(), ...(source === 'url' ? { url: url.trim() } : file === null ? {} : { file }), ignoreWarnings })
      .then((result) => {
        if (!result.applied) {
          setWarnings(result.warnings)
          return
        }
        setWarnings(null)
        setAdded(result.description)
        setCode('')
        setUrl('')
        setFile(null)
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    send(false)
  }
  const ready = code.trim() !== '' && (source === 'url' ? url.trim() !== '' && problem === undefined : file !== null)
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('descriptions.addOpenApiTitle')}>
      <Title order={5}>{t('descriptions.addOpenApiTitle')}</Title>
      <Text size="sm" c="dimmed">{t('descriptions.addOpenApiIntro')}</Text>
      <Group grow align="flex-start" wrap="wrap">
        <ProviderSelect subsystems={subsystems} value={chosen} onChange={setClient} error={error} />
        <TextInput label={t('services.code')} value={code} onChange={(e) => setCode(e.currentTarget.value)} miw={160} error={fieldMessage(error, 'serviceCode')} />
      </Group>
      <Group gap="sm" wrap="wrap">
        <Text size="sm" fw={500} id="openapi-source">{t('descriptions.source')}</Text>
        <SegmentedControl aria-labelledby="openapi-source" value={source} onChange={(v) => setSource(v as 'url' | 'file')}
          data={[{ value: 'url', label: t('descriptions.sourceUrl') }, { value: 'file', label: t('descriptions.sourceFile') }]} />
      </Group>
      {source === 'url' ? (
        <TextInput label={t('descriptions.openApiUrl')} description={t('descriptions.openApiUrlHint')} value={url} onChange={(e) => setUrl(e.currentTarget.value)}
          error={problem === undefined ? fieldMessage(error, 'url') : t('services.urlProblem')} />
      ) : (
        <Group gap="sm" wrap="wrap">
          <FileButton accept=".json,application/json" onChange={(chosenFile) => {
            if (chosenFile === null) return
            setTooLarge(chosenFile.size > MAX_UPLOAD_BYTES)
            if (chosenFile.size > MAX_UPLOAD_BYTES) setFile(null)
            else void fileBase64(chosenFile).then((contentBase64) => setFile({ name: chosenFile.name, contentBase64 }))
          }}>
            {(props) => <Button variant="default" {...props}>{t('descriptions.chooseFile')}</Button>}
          </FileButton>
          <Text size="sm" c={file === null ? 'dimmed' : undefined}>{file === null ? t('descriptions.noFile') : file.name}</Text>
          {tooLarge ? <Text size="sm" c="red">{t('descriptions.fileTooLarge', { kb: MAX_UPLOAD_BYTES / 1024 })}</Text> : null}
          {fieldMessage(error, 'file') !== undefined ? <Text size="sm" c="red">{fieldMessage(error, 'file')}</Text> : null}
        </Group>
      )}
      <Text size="xs" c="dimmed">{t('descriptions.jsonOnly')}</Text>
      {error !== null && !atField(error, ['client', 'serviceCode', 'url', 'file']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      {warnings !== null ? (
        <Card withBorder bg="var(--mantine-color-yellow-light)" role="alert">
          <Stack gap="xs">
            <Text size="sm" fw={500}>{t('descriptions.warningsTitle')}</Text>
            <WarningList warnings={warnings} />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setWarnings(null)}>{t('common:actions.cancel')}</Button>
              <Button onClick={() => send(true)} loading={busy}>{t('descriptions.addAnyway')}</Button>
            </Group>
          </Stack>
        </Card>
      ) : null}
      {added !== null ? <Text size="sm" role="status">{t('descriptions.openApiAdded', { count: added.services[0]?.endpoints.length ?? 0, notice: added.disabledNotice ?? '' })}</Text> : null}
      <Group justify="flex-end">
        <Button type="submit" loading={busy} disabled={!ready}>{t('descriptions.addOpenApi')}</Button>
      </Group>
    </Stack>
  )
}

/** X-Road's warnings, each under its heading (services or endpoints added or removed, validation warnings). */
export function WarningList({ warnings }: { warnings: DescriptionWarningDto[] }) {
  const t = useT('services')
  return (
    <Stack gap={4}>
      {warnings.map((w) => (
        <div key={w.code}>
          <Text size="sm">{t(`descriptions.warning.${w.code}`, { count: w.metadata.length })}</Text>
          <List size="sm" ff="monospace" withPadding>
            {w.metadata.map((m) => <List.Item key={m} style={{ overflowWrap: 'anywhere' }}>{m}</List.Item>)}
          </List>
        </div>
      ))}
    </Stack>
  )
}

/** A WSDL or OpenAPI 3 description with its services (shown on demand): `children` renders them. */
export function DescriptionCard({ description, children }: { description: ServiceDescriptionDto; children: ReactNode }) {
  const t = useT('services')
  const typeLabel = useTypeLabel()
  const s = useServicesStore()
  const name = useSubjectName()
  const [open, setOpen] = useState(false)
  const [dialog, setDialog] = useState<'disable' | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [review, setReview] = useState<ServiceDescriptionChangeDto | null>(null)
  const [outcome, setOutcome] = useState<string | null>(null)
  const losers = [...new Set(description.services.flatMap((svc) => rightsOn(s.matrix, svc.id)).map(name))]
  const label = t('descriptions.card', { type: typeLabel(description.type), url: description.url })
  const refresh = (ignoreWarnings: boolean): void => {
    setBusy(true)
    setError(null)
    setOutcome(null)
    s.refreshDescription(description.id, ignoreWarnings).then((result) => {
      if (!result.applied) {
        setReview(result)
        return
      }
      setReview(null)
      setOutcome(result.warnings.length === 0 ? t('descriptions.refreshedNoChange') : t('descriptions.refreshedChanged', { count: result.warnings.reduce((n, w) => n + w.metadata.length, 0) }))
    }).catch(setError).finally(() => setBusy(false))
  }
  const enable = (): void => {
    setError(null)
    s.setDescriptionEnabled(description.id, true).catch(setError)
  }
  const what = description.type === 'WSDL' ? 'services' : 'endpoints'
  return (
    <Card withBorder component="section" aria-label={label}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <div style={{ minWidth: 0, flex: '1 1 300px' }}>
            <Group gap="xs">
              <Badge variant="outline" styles={FULL_BADGE}>{typeLabel(description.type)}</Badge>
              <Badge variant="light" color={description.disabled ? 'orange' : 'green'} styles={FULL_BADGE}>{t(description.disabled ? 'services.disabled' : 'services.enabled')}</Badge>
              {description.uploaded ? <Badge variant="light" color="gray" styles={FULL_BADGE}>{t('descriptions.uploaded')}</Badge> : null}
            </Group>
            <Text size="sm" ff="monospace" mt={4} style={{ overflowWrap: 'anywhere' }}>{description.url}</Text>
            <Text size="xs" c="dimmed">{shortId(description.client)} · {t('descriptions.refreshedAt', { at: formatDateTime(description.refreshedAt) })}</Text>
            {description.disabled && description.disabledNotice ? <Text size="xs">{t('services.noticeValue', { notice: description.disabledNotice })}</Text> : null}
          </div>
          <Group gap={6} wrap="wrap">
            <EditButton size="xs" variant="default" loading={busy} onClick={() => refresh(false)} aria-label={t('descriptions.refreshAria', { url: description.url })}>{t('descriptions.refresh')}</EditButton>
            {description.disabled
              ? <EditButton size="xs" variant="light" onClick={enable} aria-label={t('descriptions.enableAria', { url: description.url })}>{t('services.enable')}</EditButton>
              : <EditButton size="xs" variant="light" color="orange" onClick={() => setDialog('disable')} aria-label={t('descriptions.disableAria', { url: description.url })}>{t('services.disable')}</EditButton>}
            <ConfirmAction
              label={t('services.delete')}
              ariaLabel={t('descriptions.deleteAria', { url: description.url })}
              title={t('descriptions.deleteTitle', { type: typeLabel(description.type) })}
              consequences={<Consequences items={[
                t('descriptions.deleteBody', { url: description.url, count: description.services.length, list: description.services.map(serviceName).join(', ') }),
                losers.length === 0 ? t('services.deleteNobody') : t('services.deleteLosers', { count: losers.length, list: losers.join('; ') }),
              ]} />}
              confirmLabel={t('descriptions.deleteConfirm')}
              onConfirm={() => s.deleteDescription(description.id)}
            />
          </Group>
        </Group>
        {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        {outcome !== null ? <Text size="sm" role="status">{outcome}</Text> : null}
        <Group>
          <Button size="xs" variant="subtle" onClick={() => setOpen(!open)} aria-expanded={open}>
            {t(open ? `descriptions.hide.${what}` : `descriptions.show.${what}`, {
              count: description.type === 'WSDL' ? description.services.length : (description.services[0]?.endpoints.length ?? 0),
            })}
          </Button>
        </Group>
        {open ? <Stack gap="sm">{children}</Stack> : null}
      </Stack>
      {dialog === 'disable' ? <DisableDescriptionDialog description={description} onClose={() => setDialog(null)} /> : null}
      {review !== null ? (
        <RefreshReviewDialog description={description} change={review} busy={busy} onCancel={() => setReview(null)} onApply={() => refresh(true)} />
      ) : null}
    </Card>
  )
}

/** What a refresh would change, and who loses access, before anything is applied (X-Road's warnings). */
function RefreshReviewDialog({ description, change, busy, onCancel, onApply }: {
  description: ServiceDescriptionDto; change: ServiceDescriptionChangeDto; busy: boolean; onCancel(): void; onApply(): void
}) {
  const t = useT('services', 'common')
  const name = useSubjectName()
  const losers = [...new Set(change.accessRightsRemoved.map((r) => `${name(r)} (${serviceNameOfId(r.service)})`))]
  const removes = change.warnings.some((w) => w.code === 'deleting_services' || w.code === 'deleting_endpoints')
  return (
    <Modal opened onClose={onCancel} title={t('descriptions.reviewTitle', { url: description.url })} centered size="lg">
      <Stack gap="sm">
        <Text size="sm">{t('descriptions.reviewIntro')}</Text>
        <WarningList warnings={change.warnings} />
        {removes ? (
          <Text size="sm">{losers.length === 0 ? t('descriptions.reviewNobody') : t('descriptions.reviewLosers', { count: losers.length, list: losers.join('; ') })}</Text>
        ) : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>{t('common:actions.cancel')}</Button>
          <Button color={removes ? 'red' : undefined} loading={busy} onClick={onApply}>{t('descriptions.apply')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}

function DisableDescriptionDialog({ description, onClose }: { description: ServiceDescriptionDto; onClose(): void }) {
  const t = useT('services')
  const { setDescriptionEnabled } = useServicesStore()
  return (
    <DisableWithNoticeDialog title={t('descriptions.disableTitle', { url: description.url })}
      body={t('descriptions.disableBody', { count: description.services.length })} notice={description.disabledNotice}
      disable={(notice) => setDescriptionEnabled(description.id, false, notice)} onClose={onClose} />
  )
}
