import { useEffect, useState } from 'react'
import { Alert, Badge, Button, Card, Code, Group, Select, SimpleGrid, Stack, Switch, Text, TextInput, Title } from '@mantine/core'
import type { BootstrapSettingsDto, BootstrapValues, SettingDto } from '@shared/admin-api/admin-api'
import { hasTranslation, translate, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError, isFieldError } from '../../lib/field-error'
import { BackupCard } from './BackupCard'
import { CentralServerCard } from './CentralServerCard'
import { RestartNotice } from './RestartNotice'
import { settingProblem, useSettingsStore, type SettingProblem } from './settings-store'
import { EditButton, useReadOnly } from '../../lib/read-only'

const HIDDEN_LABEL = { position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' } as const

/** A parameter's label or description in the language shown; the server's English where the catalogue has none. */
function parameterText(setting: SettingDto, part: 'label' | 'description'): string {
  const key = `settings:parameters.${setting.name}.${part}`
  return hasTranslation(key) ? translate(key) : setting[part]
}

/** System parameters (applied at once) and the listeners of the bootstrap file (applied at a restart). */
export function SettingsPage() {
  const t = useT('settings')
  const { settings, bootstrap, restart, error, load, clearError } = useSettingsStore()
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg" maw={1000}>
      <div>
        <Title order={2}>{t('title')}</Title>
        <Text c="dimmed" size="sm">{t('subtitle')}</Text>
      </div>
      {error && !isFieldError(error, NETWORK_FIELDS) ? <ErrorNotice error={error} onClose={clearError} /> : null}
      {restart !== null ? <RestartNotice restart={restart} onRestarted={() => void load()} always /> : null}
      <div>
        <Title order={3}>{t('parametersTitle')}</Title>
        <Text c="dimmed" size="sm">{t('parametersHint')}</Text>
      </div>
      {settings.map((s) => <SettingRow key={s.name} setting={s} />)}
      <CentralServerCard />
      {bootstrap !== null ? <NetworkCard bootstrap={bootstrap} /> : null}
      <BackupCard />
    </Stack>
  )
}

function SettingRow({ setting }: { setting: SettingDto }) {
  const t = useT('settings')
  const { save, reset, loading } = useSettingsStore()
  const [draft, setDraft] = useState(setting.value)
  useEffect(() => setDraft(setting.value), [setting.value])
  const problem = settingProblem(setting, draft)
  const unit = setting.unit === 'days' || setting.unit === 'seconds' || setting.unit === 'hours' ? t(`units.${setting.unit}`) : setting.unit
  const defaultText = setting.kind === 'boolean'
    ? (setting.defaultValue === 'true' ? t('on') : t('off'))
    : setting.defaultValue === '' ? translate('common:none') : `${setting.defaultValue}${unit ? ` ${unit}` : ''}`
  const label = parameterText(setting, 'label')
  const readOnly = useReadOnly()
  const problemText = (p: SettingProblem | null): string | null => (p === null ? null : p.key === 'min' ? t('problems.min', { min: p.min }) : p.key === 'max' ? t('problems.max', { max: p.max }) : t(`problems.${p.key}`))
  return (
    <Card withBorder>
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div style={{ flex: 1, minWidth: 280 }}>
          <Group gap="xs"><Text fw={600}>{label}</Text><Badge size="xs" variant="light" color={setting.isDefault ? 'gray' : 'blue'} styles={{ label: { overflow: 'visible' } }}>{setting.isDefault ? t('default') : t('changed')}</Badge></Group>
          <Text size="sm" c="dimmed">{parameterText(setting, 'description')}</Text>
          <Text size="xs" c="dimmed">{t('defaultValue', { value: defaultText })} <code>{setting.name}</code></Text>
        </div>
        <Group align="flex-start" wrap="nowrap">
          {setting.kind === 'boolean' ? (
            <Switch label={label} disabled={readOnly} checked={draft === 'true'} onChange={(e) => { const v = String(e.currentTarget.checked); setDraft(v); void save(setting.name, v) }} styles={{ label: HIDDEN_LABEL }} />
          ) : (
            <TextInput
              label={label}
              labelProps={{ style: HIDDEN_LABEL }}
              w={setting.kind === 'schedule' ? 220 : 150}
              value={draft}
              readOnly={readOnly}
              error={problemText(problem)}
              rightSection={unit ? <Text size="xs" c="dimmed">{unit}</Text> : null}
              rightSectionWidth={44}
              onChange={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => { if (e.key === 'Enter' && problem === null && !readOnly) void save(setting.name, draft) }}
            />
          )}
          {setting.kind !== 'boolean' ? <EditButton variant="light" disabled={problem !== null || draft === setting.value} loading={loading} onClick={() => void save(setting.name, draft)} aria-label={t('saveLabel', { label })}>{t('save')}</EditButton> : null}
          <EditButton variant="subtle" disabled={setting.isDefault} onClick={() => void reset(setting.name)} aria-label={t('resetLabel', { label })}>{t('reset')}</EditButton>
        </Group>
      </Group>
    </Card>
  )
}

const PORTS = ['clientProxyHttpPort', 'clientProxyHttpsPort', 'adminPort', 'serverProxyPort', 'ocspResponderPort', 'healthCheckPort'] as const
const NETWORK_FIELDS: readonly string[] = ['internalHost', 'externalHost', 'healthCheckHost', 'logLevel', ...PORTS]
const LOG_LEVELS: Array<BootstrapValues['logLevel']> = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
type Draft = Record<keyof BootstrapValues, string>

const toDraft = (v: BootstrapValues): Draft => ({
  internalHost: v.internalHost, externalHost: v.externalHost, healthCheckHost: v.healthCheckHost, logLevel: v.logLevel,
  ...Object.fromEntries(PORTS.map((p) => [p, v[p] === null ? '' : String(v[p])])),
}) as Draft

/** The listener addresses and ports of the bootstrap file; the running value is shown where it differs. */
function NetworkCard({ bootstrap }: { bootstrap: BootstrapSettingsDto }) {
  const t = useT('settings')
  const { saveBootstrap, loading, error } = useSettingsStore()
  const [draft, setDraft] = useState<Draft>(toDraft(bootstrap.values))
  const [saved, setSaved] = useState(false)
  useEffect(() => setDraft(toDraft(bootstrap.values)), [bootstrap.values])
  const portProblem = (field: (typeof PORTS)[number]): string | undefined => {
    const text = draft[field].trim()
    if (text === '') return field === 'adminPort' ? t('network.adminPortHint') : undefined
    return /^\d{1,5}$/.test(text) && Number(text) <= 65535 ? undefined : t('problems.whole')
  }
  const invalid = PORTS.some((p) => portProblem(p) !== undefined) || draft.internalHost.trim() === '' || draft.externalHost.trim() === '' || draft.healthCheckHost.trim() === ''
  const submit = (): void => {
    const values: Partial<BootstrapValues> = {
      internalHost: draft.internalHost.trim(), externalHost: draft.externalHost.trim(), healthCheckHost: draft.healthCheckHost.trim(), logLevel: draft.logLevel as BootstrapValues['logLevel'],
    }
    for (const p of PORTS) (values as Record<string, unknown>)[p] = draft[p].trim() === '' ? null : Number(draft[p])
    void saveBootstrap(values).then(setSaved)
  }
  const running = (field: keyof BootstrapValues): string | null => {
    const value = bootstrap.running[field]
    return bootstrap.pendingRestart.includes(field) ? t('network.running', { value: value === null ? t('network.offValue') : String(value) }) : null
  }
  const input = (field: keyof BootstrapValues, description?: string) => (
    <TextInput
      key={field}
      label={t(`network.${field}`)}
      description={[description, running(field)].filter(Boolean).join(' · ') || undefined}
      value={draft[field]}
      error={fieldError(error, field) ?? (PORTS.includes(field as (typeof PORTS)[number]) ? portProblem(field as (typeof PORTS)[number]) : undefined)}
      onChange={(e) => { const value = e.currentTarget.value; setDraft((d) => ({ ...d, [field]: value })); setSaved(false) }}
    />
  )
  return (
    <Card withBorder data-testid="network-settings">
      <Title order={3}>{t('network.title')}</Title>
      <Text c="dimmed" size="sm">{t('network.hint')}</Text>
      <Text c="dimmed" size="xs" mb="sm">{t('network.file')} <Code>{bootstrap.file}</Code></Text>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {input('internalHost')}
        {input('externalHost')}
        {input('clientProxyHttpPort', t('network.portHint'))}
        {input('serverProxyPort', t('network.portHint'))}
        {input('clientProxyHttpsPort', t('network.portHint'))}
        {input('ocspResponderPort', t('network.portHint'))}
        {input('adminPort')}
        {input('healthCheckPort', t('network.healthCheckPortHint'))}
        {input('healthCheckHost')}
        <Select label={t('network.logLevel')} data={LOG_LEVELS} value={draft.logLevel} allowDeselect={false} onChange={(v) => v !== null && setDraft((d) => ({ ...d, logLevel: v }))} />
      </SimpleGrid>
      <Group justify="flex-end" mt="md">
        <Button onClick={submit} loading={loading} disabled={invalid}>{t('network.save')}</Button>
      </Group>
      {saved && bootstrap.pendingRestart.length > 0 ? (
        <Alert color="yellow" mt="sm" role="status">{t('network.saved')} {t('network.pending', { fields: bootstrap.pendingRestart.map((f) => t(`network.${f}`)).join(', ') })}</Alert>
      ) : null}
    </Card>
  )
}
