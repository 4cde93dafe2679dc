import { useEffect, useState } from 'react'
import { Badge, Button, Card, Group, Stack, Switch, Text, TextInput, Title } from '@mantine/core'
import type { SettingDto } from '@shared/admin-api/admin-api'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { settingProblem, useSettingsStore } from './settings-store'

/** System parameters with validation, their defaults shown, and a reset to the default. */
export function SettingsPage() {
  const { settings, error, load, clearError } = useSettingsStore()
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg" maw={900}>
      <div>
        <Title order={2}>Settings</Title>
        <Text c="dimmed" size="sm">System parameters. Each shows its default; changes are recorded in the audit log.</Text>
      </div>
      {error ? <ErrorNotice error={error} onClose={clearError} /> : null}
      {settings.map((s) => <SettingRow key={s.name} setting={s} />)}
    </Stack>
  )
}

function SettingRow({ setting }: { setting: SettingDto }) {
  const { save, reset, loading } = useSettingsStore()
  const [draft, setDraft] = useState(setting.value)
  useEffect(() => setDraft(setting.value), [setting.value])
  const problem = settingProblem(setting, draft)
  const defaultText = setting.kind === 'boolean' ? (setting.defaultValue === 'true' ? 'on' : 'off') : `${setting.defaultValue}${setting.unit ? ` ${setting.unit}` : ''}`
  return (
    <Card withBorder>
      <Group justify="space-between" align="flex-start" wrap="nowrap">
        <div style={{ flex: 1 }}>
          <Group gap="xs"><Text fw={600}>{setting.label}</Text>{setting.isDefault ? <Badge size="xs" variant="light" color="gray">default</Badge> : <Badge size="xs" variant="light">changed</Badge>}</Group>
          <Text size="sm" c="dimmed">{setting.description}</Text>
          <Text size="xs" c="dimmed">Default: {defaultText} · parameter <code>{setting.name}</code></Text>
        </div>
        <Group align="flex-start" wrap="nowrap">
          {setting.kind === 'boolean' ? (
            <Switch label={setting.label} checked={draft === 'true'} onChange={(e) => { const v = String(e.currentTarget.checked); setDraft(v); void save(setting.name, v) }} styles={{ label: { position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' } }} />
          ) : (
            <TextInput
              label={setting.label}
              labelProps={{ style: { position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' } }}
              w={150}
              value={draft}
              error={problem}
              rightSection={setting.unit ? <Text size="xs" c="dimmed">{setting.unit === 'seconds' ? 's' : setting.unit}</Text> : null}
              rightSectionWidth={44}
              onChange={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => { if (e.key === 'Enter' && problem === null) void save(setting.name, draft) }}
            />
          )}
          {setting.kind === 'integer' ? <Button variant="light" disabled={problem !== null || draft === setting.value} loading={loading} onClick={() => void save(setting.name, draft)} aria-label={`Save ${setting.label}`}>Save</Button> : null}
          <Button variant="subtle" disabled={setting.isDefault} onClick={() => void reset(setting.name)} aria-label={`Reset ${setting.label} to default`}>Reset</Button>
        </Group>
      </Group>
    </Card>
  )
}
