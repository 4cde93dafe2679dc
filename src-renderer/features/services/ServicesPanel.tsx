import { useState, type FormEvent } from 'react'
import { Badge, Button, Card, Checkbox, Group, NumberInput, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import type { EndpointDto, ServiceDescriptionDto, ServiceDto } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { DisableServiceDialog, EditEndpointDialog, EditServiceDialog, urlProblem } from './ServiceDialogs'
import { EndpointText, FULL_BADGE, IdText, atField, fieldMessage, useSubjectName } from './ServicesParts'
import { AddDescriptionForms, DescriptionCard } from './ServiceDescriptions'
import { REST_METHODS, rightsOn, serviceName, shortId, useServicesStore } from './services-store'
import { ConfigurationEdit, EditButton } from '../../lib/read-only'

/**
 * Services of the subsystems (UG-SS §6): REST services with URL, timeout, TLS verification, endpoints, disabling with a
 * notice and deleting; WSDL and OpenAPI 3 descriptions as cards that open onto their services.
 */
export function ServicesPanel() {
  const t = useT('services')
  const { services, descriptions, clients } = useServicesStore()
  const subsystems = clients.filter((c) => c.kind === 'SUBSYSTEM').map((c) => c.id)
  const byId = new Map(descriptions.map((d) => [d.id, d]))
  // A REST service is its own card; a WSDL's or OpenAPI description's services sit in the description's card.
  const items: Array<{ key: string; service?: ServiceDto; description?: ServiceDescriptionDto }> = []
  const shown = new Set<number>()
  for (const svc of services) {
    const description = byId.get(svc.descriptionId)
    if (description === undefined || description.type === 'REST') items.push({ key: svc.id, service: svc })
    else if (!shown.has(description.id)) {
      shown.add(description.id)
      items.push({ key: `description-${description.id}`, description })
    }
  }
  return (
    <Stack gap="md">
      <ConfigurationEdit>
        <Card withBorder>
          {subsystems.length === 0 ? <Text size="sm" c="dimmed">{t('services.needSubsystem')}</Text> : (
            <AddDescriptionForms subsystems={subsystems} restForm={<AddServiceForm subsystems={subsystems} />} />
          )}
        </Card>
      </ConfigurationEdit>
      {items.length === 0 ? <Text size="sm" c="dimmed">{t('services.none')}</Text> : items.map((item) => item.description === undefined
        ? <ServiceCard key={item.key} service={item.service as ServiceDto} />
        : (
          <DescriptionCard key={item.key} description={item.description}>
            {services.filter((svc) => svc.descriptionId === item.description?.id).map((svc) => <ServiceCard key={svc.id} service={svc} partOf={item.description} />)}
          </DescriptionCard>
        ))}
    </Stack>
  )
}

function AddServiceForm({ subsystems }: { subsystems: string[] }) {
  const t = useT('services')
  const { addService } = useServicesStore()
  const [client, setClient] = useState<string | null>(null)
  const [code, setCode] = useState('')
  const [url, setUrl] = useState('')
  const [timeout, setTimeoutSeconds] = useState<number | string>(60)
  const [sslVerify, setSslVerify] = useState(true)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const chosen = client !== null && subsystems.includes(client) ? client : (subsystems[0] ?? null)
  const problem = urlProblem(url)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (chosen === null) return
    setBusy(true)
    setError(null)
    addService({ client: chosen, serviceCode: code.trim(), url: url.trim(), timeoutSeconds: Number(timeout), sslVerify })
      .then(() => {
        setCode('')
        setUrl('')
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  return (
    <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('services.addTitle')}>
      <Title order={5}>{t('services.addTitle')}</Title>
      <Group grow align="flex-start" wrap="wrap">
        <Select label={t('services.provider')} data={subsystems.map((id) => ({ value: id, label: shortId(id) }))} value={chosen} onChange={setClient}
          allowDeselect={false} miw={220} error={fieldMessage(error, 'client')} />
        <TextInput label={t('services.code')} value={code} onChange={(e) => setCode(e.currentTarget.value)} miw={160} error={fieldMessage(error, 'serviceCode')} />
      </Group>
      <TextInput label={t('services.url')} description={t('services.urlHint')} value={url} onChange={(e) => setUrl(e.currentTarget.value)}
        error={problem === undefined ? fieldMessage(error, 'url') : t('services.urlProblem')} />
      <Group align="flex-end" wrap="wrap">
        <NumberInput label={t('services.timeout')} min={1} max={3600} value={timeout} onChange={setTimeoutSeconds} w={260} error={fieldMessage(error, 'timeoutSeconds')} />
        <Checkbox label={t('services.verifyTls')} checked={sslVerify} onChange={(e) => setSslVerify(e.currentTarget.checked)} mb={8} />
      </Group>
      {error !== null && !atField(error, ['client', 'serviceCode', 'url', 'timeoutSeconds']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      <Group justify="flex-end">
        <Button type="submit" loading={busy} disabled={code.trim() === '' || url.trim() === '' || problem !== undefined}>{t('services.add')}</Button>
      </Group>
    </Stack>
  )
}

/** One service; within a WSDL or OpenAPI description (`partOf`) it is enabled, disabled and deleted with the description. */
function ServiceCard({ service, partOf }: { service: ServiceDto; partOf?: ServiceDescriptionDto }) {
  const t = useT('services')
  const own = partOf === undefined
  const soap = partOf?.type === 'WSDL'
  const label = serviceName(service)
  const s = useServicesStore()
  const [dialog, setDialog] = useState<'edit' | 'disable' | null>(null)
  const [editing, setEditing] = useState<EndpointDto | null>(null)
  const [error, setError] = useState<unknown>(null)
  const name = useSubjectName()
  const losers = [...new Set(rightsOn(s.matrix, service.id).map(name))]
  const enable = (): void => {
    setError(null)
    s.setServiceEnabled(service.id, true).catch(setError)
  }
  return (
    <Card withBorder component="section" aria-label={t('services.card', { service: label })}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <div style={{ minWidth: 0, flex: '1 1 260px' }}>
            <Group gap="xs">
              <Title order={5}>{label}</Title>
              {own ? <Badge variant="light" color={service.disabled ? 'orange' : 'green'} styles={FULL_BADGE}>{t(service.disabled ? 'services.disabled' : 'services.enabled')}</Badge> : null}
            </Group>
            {service.title ? <Text size="sm">{service.title}</Text> : null}
            <IdText id={service.provider} dimmed />
            <Text size="sm" ff="monospace" style={{ overflowWrap: 'anywhere' }}>{service.url}</Text>
            <Text size="xs" c="dimmed">
              {t('services.timeoutValue', { seconds: service.timeoutSeconds })}
              {' · '}
              {t(service.sslVerify ? 'services.verifyOn' : 'services.verifyOff')}
            </Text>
            {own && service.disabled && service.disabledNotice ? <Text size="xs">{t('services.noticeValue', { notice: service.disabledNotice })}</Text> : null}
          </div>
          <Group gap={6} wrap="wrap">
            <EditButton size="xs" variant="default" onClick={() => setDialog('edit')} aria-label={t('services.editAria', { service: label })}>{t('services.edit')}</EditButton>
            {own && service.disabled
              ? <EditButton size="xs" variant="light" onClick={enable} aria-label={t('services.enableAria', { service: label })}>{t('services.enable')}</EditButton>
              : own ? <EditButton size="xs" variant="light" color="orange" onClick={() => setDialog('disable')} aria-label={t('services.disableAria', { service: label })}>{t('services.disable')}</EditButton> : null}
            {own ? <ConfirmAction
              label={t('services.delete')}
              ariaLabel={t('services.deleteAria', { service: label })}
              title={t('services.deleteTitle', { service: label })}
              consequences={<Consequences items={[
                t('services.deleteBody', { service: label, count: service.endpoints.length }),
                losers.length === 0 ? t('services.deleteNobody') : t('services.deleteLosers', { count: losers.length, list: losers.join('; ') }),
              ]} />}
              confirmLabel={t('services.deleteConfirm')}
              onConfirm={() => s.deleteService(service.id)}
            /> : null}
          </Group>
        </Group>
        {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        <Table.ScrollContainer minWidth={440}>
          <Table aria-label={t('endpoints.table', { service: label })} verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr><Table.Th>{t('endpoints.endpoint')}</Table.Th><Table.Th>{t('endpoints.access')}</Table.Th><Table.Th><span className="sr-only">{t('actionsColumn')}</span></Table.Th></Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {service.endpoints.map((e) => {
                const who = rightsOn(s.matrix, service.id, e)
                return (
                  <Table.Tr key={`${e.method} ${e.path}`}>
                    <Table.Td><EndpointText endpoint={e} /></Table.Td>
                    <Table.Td><Text size="sm">{t('endpoints.subjects', { count: who.length })}</Text></Table.Td>
                    <Table.Td>
                      {e.generated ? <Text size="xs" c="dimmed">{t('endpoints.generated')}</Text> : (
                        <Group gap={6} wrap="wrap">
                          <EditButton size="xs" variant="subtle" onClick={() => setEditing(e)} aria-label={t('endpoints.editAria', { endpoint: `${e.method} ${e.path}` })}>{t('endpoints.edit')}</EditButton>
                          <ConfirmAction
                            label={t('endpoints.delete')}
                            ariaLabel={t('endpoints.deleteAria', { endpoint: `${e.method} ${e.path}` })}
                            title={t('endpoints.deleteTitle', { endpoint: `${e.method} ${e.path}` })}
                            consequences={<Consequences items={[
                              t('endpoints.deleteBody', { endpoint: `${e.method} ${e.path}`, service: label }),
                              who.length === 0 ? t('endpoints.deleteNobody') : t('endpoints.deleteLosers', { count: who.length, list: who.map(name).join('; ') }),
                            ]} />}
                            confirmLabel={t('endpoints.deleteConfirm')}
                            onConfirm={() => s.deleteEndpoint(service.id, e)}
                          />
                        </Group>
                      )}
                    </Table.Td>
                  </Table.Tr>
                )
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {soap ? null : <ConfigurationEdit><AddEndpointForm service={service} /></ConfigurationEdit>}
      </Stack>
      {dialog === 'edit' ? <EditServiceDialog service={service} onClose={() => setDialog(null)} /> : null}
      {dialog === 'disable' ? <DisableServiceDialog service={service} onClose={() => setDialog(null)} /> : null}
      {editing !== null ? <EditEndpointDialog service={service} endpoint={editing} onClose={() => setEditing(null)} /> : null}
    </Card>
  )
}

function AddEndpointForm({ service }: { service: ServiceDto }) {
  const t = useT('services')
  const { addEndpoint } = useServicesStore()
  const [method, setMethod] = useState<string | null>('GET')
  const [path, setPath] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (method === null) return
    setBusy(true)
    setError(null)
    addEndpoint({ service: service.id, method, path: path.trim() }).then(() => setPath('')).catch(setError).finally(() => setBusy(false))
  }
  return (
    <Group component="form" onSubmit={submit} align="flex-end" wrap="wrap" gap="xs" aria-label={t('endpoints.addAria', { service: serviceName(service) })}>
      <Select label={t('endpoints.method')} data={[...REST_METHODS]} value={method} onChange={setMethod} w={120} allowDeselect={false} />
      <TextInput label={t('endpoints.path')} placeholder={t('endpoints.pathPlaceholder')} description={t('endpoints.pathHint')} value={path} onChange={(e) => setPath(e.currentTarget.value)}
        error={fieldMessage(error, 'path')} style={{ flex: '1 1 220px' }} />
      <Button type="submit" variant="light" loading={busy} disabled={!path.trim().startsWith('/')}>{t('endpoints.add')}</Button>
      {error !== null && !atField(error, ['path']) ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
    </Group>
  )
}
