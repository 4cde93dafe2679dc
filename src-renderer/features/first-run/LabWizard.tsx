import { useEffect, useState, type FormEvent } from 'react'
import { Alert, Badge, Button, Card, Checkbox, Code, Group, List, Loader, PasswordInput, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core'
import { SOFTWARE_TOKEN_PIN_POLICY, type LabStepDto, type LabStepState } from '@shared/admin-api/admin-api'
import { hasTranslation, translate, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { describeError } from '../../lib/error-messages'
import { AdminError } from '../../lib/admin-client'
import { useRouterStore } from '../../app/router-store'
import { MEMBER_CLASSES, labFormProblems, useLabWizardStore } from './lab-store'

const POLL_MS = 500
const STEP_COLOR: Record<LabStepState, string> = { pending: 'gray', running: 'blue', done: 'green', failed: 'red' }

/** A step's title in the language shown (the server's English when a newer server names a step this GUI does not know). */
function stepTitle(step: LabStepDto): string {
  const key = `firstRun:lab.steps.${step.id}.title`
  return hasTranslation(key) ? translate(key) : step.title
}

/** What a step did, from its outcome and parameters; a failure's server message; the server's English otherwise. */
function stepDetail(step: LabStepDto): string | null {
  if (step.state === 'failed') return step.detail
  const key = `firstRun:lab.steps.${step.id}.${step.outcome ?? ''}`
  return step.outcome !== null && hasTranslation(key) ? translate(key, step.params) : step.detail
}

/** First run, second choice: a small trust domain on this computer with this server as its first member's server. */
export function LabWizard() {
  const t = useT('firstRun', 'common')
  const s = useLabWizardStore()
  const navigate = useRouterStore((r) => r.navigate)
  const [pin, setPin] = useState('')
  const [pin2, setPin2] = useState('')
  const [touched, setTouched] = useState(false)
  const state = s.operation?.state
  const refresh = s.refresh
  useEffect(() => {
    if (state !== 'running') return undefined
    const timer = setInterval(() => void refresh(), POLL_MS)
    return () => clearInterval(timer)
  }, [state, refresh])

  const problems = labFormProblems(s.form)
  const pinTooShort = pin.length < SOFTWARE_TOKEN_PIN_POLICY.minLength
  const pinError = pinTooShort ? t('pin.tooShort', { count: SOFTWARE_TOKEN_PIN_POLICY.minLength }) : pin !== pin2 ? t('pin.differ') : null
  const onCreate = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (Object.keys(problems).length > 0 || pinError !== null) return
    void s.create(pin).then((ok) => ok && (setPin(''), setPin2(''), setTouched(false)))
  }
  const shown = (field: keyof typeof problems): string | null => (touched || s.form[field] !== '' ? (problems[field] ?? null) : null)

  return (
    <Stack gap="lg">
      {s.error ? <ErrorNotice error={s.error} onClose={s.clearError} /> : null}
      {s.operation === null ? (
        <Card withBorder>
          <Stack component="form" gap="sm" aria-label={t('lab.form')} onSubmit={onCreate}>
            <Text size="sm">{t('lab.explain')}</Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label={t('lab.instance')} description={t('lab.instanceDescription')} value={s.form.instance} error={shown('instance')} onChange={(e) => s.setForm({ instance: e.currentTarget.value })} />
              <Select
                label={t('lab.memberClass')} description={t('lab.memberClassDescription')} allowDeselect={false}
                data={MEMBER_CLASSES.map((code) => ({ value: code, label: t(`lab.classes.${code}`) }))} value={s.form.memberClass} onChange={(v) => v && s.setForm({ memberClass: v })}
              />
              <TextInput label={t('lab.memberCode')} description={t('lab.memberCodeDescription')} value={s.form.memberCode} error={shown('memberCode')} onChange={(e) => s.setForm({ memberCode: e.currentTarget.value })} />
              <TextInput label={t('lab.memberName')} description={t('lab.memberNameDescription')} value={s.form.memberName} error={shown('memberName')} onChange={(e) => s.setForm({ memberName: e.currentTarget.value })} />
              <TextInput label={t('lab.subsystemCode')} description={t('lab.subsystemCodeDescription')} value={s.form.subsystemCode} error={shown('subsystemCode')} onChange={(e) => s.setForm({ subsystemCode: e.currentTarget.value })} />
              <TextInput label={t('lab.serverCode')} description={t('lab.serverCodeDescription')} value={s.form.serverCode} error={shown('serverCode')} onChange={(e) => s.setForm({ serverCode: e.currentTarget.value })} />
            </SimpleGrid>
            <Text size="sm">{t('lab.pinExplain', { count: SOFTWARE_TOKEN_PIN_POLICY.minLength })}</Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <PasswordInput label={t('join.token.pin')} autoComplete="new-password" value={pin} onChange={(e) => setPin(e.currentTarget.value)} error={touched && pinTooShort ? t('pin.tooShort', { count: SOFTWARE_TOKEN_PIN_POLICY.minLength }) : null} />
              <PasswordInput label={t('join.token.repeat')} autoComplete="new-password" value={pin2} onChange={(e) => setPin2(e.currentTarget.value)} error={touched && pin !== pin2 ? t('pin.differ') : null} />
            </SimpleGrid>
            <Group justify="flex-end"><Button type="submit" loading={s.busy}>{t('lab.create')}</Button></Group>
          </Stack>
        </Card>
      ) : (
        <Card withBorder>
          <Stack gap="sm">
            <Title order={3}>{state === 'done' ? t('lab.progress.done') : state === 'failed' ? t('lab.progress.failed') : t('lab.progress.running')}</Title>
            <List spacing="xs" listStyleType="none" aria-label={t('lab.progress.steps')} data-testid="lab-steps">
              {s.operation.steps.map((step, i) => {
                const detail = stepDetail(step)
                return (
                  <List.Item key={step.id}>
                    <Group gap="xs" wrap="nowrap" align="flex-start">
                      <Badge
                        miw={96} style={{ flexShrink: 0 }} color={STEP_COLOR[step.state]} variant="light"
                        styles={{ root: { maxWidth: 'none' }, label: { overflow: 'visible', textOverflow: 'clip' } }}
                        leftSection={step.state === 'running' && state === 'running' ? <Loader size={10} /> : null}
                      >
                        {t(`lab.state.${step.state}`)}
                      </Badge>
                      <div>
                        <Text size="sm" fw={500}>{i + 1}. {stepTitle(step)}</Text>
                        {detail ? <Text size="xs" c={step.state === 'failed' ? 'red' : 'dimmed'}>{detail}</Text> : null}
                      </div>
                    </Group>
                  </List.Item>
                )
              })}
            </List>
            {state === 'running' ? <Text size="sm" role="status" aria-live="polite">{t('lab.progress.working')}</Text> : null}
            {state === 'awaiting-confirmation' && s.operation.anchor ? (
              <Stack gap="xs">
                <Text size="sm">{t('lab.anchor.explain')}</Text>
                <Text size="sm">{t('lab.anchor.instance', { instance: s.operation.anchor.instance })}</Text>
                <Code block data-testid="lab-anchor-hash" style={{ fontSize: 14, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>{s.operation.anchor.hash}</Code>
                <Checkbox label={t('lab.anchor.noted')} checked={s.hashNoted} onChange={(e) => s.noteHash(e.currentTarget.checked)} />
                <Group justify="flex-end"><Button disabled={!s.hashNoted} loading={s.busy} onClick={() => void s.confirm()}>{t('lab.anchor.join')}</Button></Group>
              </Stack>
            ) : null}
            {state === 'failed' ? (
              <Alert color="red" title={t('lab.failed.title')}>
                <Text size="sm">{s.operation.error?.message}</Text>
                {s.operation.error ? <Text size="sm">{describeError(new AdminError(s.operation.error.code, s.operation.error.message)).text}</Text> : null}
                <Text size="sm">{t('lab.failed.text')}</Text>
                <Group mt="sm"><Button variant="default" onClick={s.startOver}>{t('lab.failed.startOver')}</Button></Group>
              </Alert>
            ) : null}
            {state === 'done' ? (
              <Stack gap="xs">
                <Text size="sm">{t('lab.ready.text', { instance: s.operation.anchor?.instance ?? '' })}</Text>
                <List size="sm">
                  <List.Item>{t('lab.ready.ocsp')} <Code>{s.status?.services.ocspUrl}</Code></List.Item>
                  <List.Item>{t('lab.ready.tsa')} <Code>{s.status?.services.tsaUrl}</Code></List.Item>
                  <List.Item>{t('lab.ready.configuration')} <Code>{s.status?.services.configurationUrl}</Code></List.Item>
                </List>
                <Text size="sm">{t('lab.ready.next')}</Text>
                <Group>
                  <Button onClick={() => navigate('keys')}>{t('lab.ready.keys')}</Button>
                  <Button variant="default" onClick={() => navigate('services')}>{t('lab.ready.services')}</Button>
                  <Button variant="default" onClick={() => navigate('lab')}>{t('lab.ready.lab')}</Button>
                </Group>
              </Stack>
            ) : null}
          </Stack>
        </Card>
      )}
    </Stack>
  )
}
