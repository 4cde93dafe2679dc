import { useState, type FormEvent } from 'react'
import { Button, Checkbox, Group, Modal, NumberInput, Select, Stack, Text, Textarea, TextInput } from '@mantine/core'
import type { EndpointDto, ServiceDto } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { atField, fieldMessage } from './ServicesParts'
import { REST_METHODS, serviceName, useServicesStore } from './services-store'

/** The dialogs that change one service or endpoint: URL, timeout and TLS verification; the disabled notice; an endpoint. */

/** `http(s)://host…`, the shape the server accepts (it checks the rest). */
export function urlProblem(url: string): 'url' | undefined {
  return url.trim() !== '' && !/^https?:\/\/[^/\s]+/i.test(url.trim()) ? 'url' : undefined
}

export function EditServiceDialog({ service, onClose }: { service: ServiceDto; onClose(): void }) {
  const t = useT('services', 'common')
  const { updateService } = useServicesStore()
  const [url, setUrl] = useState(service.url)
  const [timeout, setTimeoutSeconds] = useState<number | string>(service.timeoutSeconds)
  const [sslVerify, setSslVerify] = useState(service.sslVerify)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    updateService({ service: service.id, url: url.trim(), timeoutSeconds: Number(timeout), sslVerify }).then(onClose).catch(setError).finally(() => setBusy(false))
  }
  const problem = urlProblem(url)
  return (
    <Modal opened onClose={onClose} title={t('services.editTitle', { service: serviceName(service) })}>
      <Stack component="form" gap="sm" onSubmit={submit}>
        <TextInput label={t('services.url')} description={t('services.urlHint')} value={url} onChange={(e) => setUrl(e.currentTarget.value)}
          error={problem === undefined ? fieldMessage(error, 'url') : t('services.urlProblem')} />
        <NumberInput label={t('services.timeout')} min={1} max={3600} value={timeout} onChange={setTimeoutSeconds} error={fieldMessage(error, 'timeoutSeconds')} />
        <Checkbox label={t('services.verifyTls')} description={t('services.verifyTlsHint')} checked={sslVerify} onChange={(e) => setSslVerify(e.currentTarget.checked)} />
        {error !== null && !atField(error, ['url', 'timeoutSeconds']) ? <ErrorNotice error={error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>{t('common:actions.cancel')}</Button>
          <Button type="submit" loading={busy} disabled={url.trim() === '' || problem !== undefined}>{t('common:actions.save')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}

export function DisableServiceDialog({ service, onClose }: { service: ServiceDto; onClose(): void }) {
  const t = useT('services')
  const { setServiceEnabled } = useServicesStore()
  return (
    <DisableWithNoticeDialog title={t('services.disableTitle', { service: serviceName(service) })} notice={service.disabledNotice}
      disable={(notice) => setServiceEnabled(service.id, false, notice)} onClose={onClose} />
  )
}

/**
 * Disabling a service or a whole service description: the notice X-Road returns to clients in `service_disabled`
 * (X-Road's "disabled notice"), edited before the change is sent.
 */
export function DisableWithNoticeDialog({ title, body, notice: initial, disable, onClose }: {
  title: string
  body?: string
  notice: string | null
  disable(notice: string): Promise<unknown>
  onClose(): void
}) {
  const t = useT('services', 'common')
  const [notice, setNotice] = useState(initial ?? '')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    disable(notice.trim()).then(onClose).catch(setError).finally(() => setBusy(false))
  }
  return (
    <Modal opened onClose={onClose} title={title}>
      <Stack component="form" gap="sm" onSubmit={submit}>
        {body === undefined ? null : <Text size="sm">{body}</Text>}
        <Textarea label={t('services.notice')} description={t('services.noticeHint')} value={notice} maxLength={1000} autosize minRows={2}
          onChange={(e) => setNotice(e.currentTarget.value)} />
        {error !== null ? <ErrorNotice error={error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>{t('common:actions.cancel')}</Button>
          <Button type="submit" color="orange" loading={busy}>{t('services.disable')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}

export function EditEndpointDialog({ service, endpoint, onClose }: { service: ServiceDto; endpoint: EndpointDto; onClose(): void }) {
  const t = useT('services', 'common')
  const { updateEndpoint } = useServicesStore()
  const [method, setMethod] = useState<string | null>(endpoint.method)
  const [path, setPath] = useState(endpoint.path)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (method === null) return
    setBusy(true)
    setError(null)
    updateEndpoint({ service: service.id, endpoint: { method: endpoint.method, path: endpoint.path }, method, path: path.trim() })
      .then(onClose).catch(setError).finally(() => setBusy(false))
  }
  return (
    <Modal opened onClose={onClose} title={t('endpoints.editTitle', { service: serviceName(service) })}>
      <Stack component="form" gap="sm" onSubmit={submit}>
        <Select label={t('endpoints.method')} data={[...REST_METHODS]} value={method} onChange={setMethod} allowDeselect={false} />
        <TextInput label={t('endpoints.path')} description={t('endpoints.pathHint')} value={path} onChange={(e) => setPath(e.currentTarget.value)}
          error={fieldMessage(error, 'path')} />
        {error !== null && !atField(error, ['path']) ? <ErrorNotice error={error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>{t('common:actions.cancel')}</Button>
          <Button type="submit" loading={busy} disabled={!path.trim().startsWith('/')}>{t('common:actions.save')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}
