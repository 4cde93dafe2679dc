import { useEffect, useState, type FormEvent } from 'react'
import { Alert, Button, Card, Checkbox, Code, FileButton, Group, List, PasswordInput, SegmentedControl, Stack, Stepper, Text, TextInput, Textarea, Title } from '@mantine/core'
import { formatDateTime, useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError } from '../../lib/field-error'
import { useRouterStore } from '../../app/router-store'
import { FIRST_RUN_STEPS, ownerProblem, serverCodeProblem, useFirstRunStore } from './first-run-store'
import { LabWizard } from './LabWizard'
import { RestoreFromBackup } from './RestoreFromBackup'

const PIN_MIN = 4

/**
 * First run: join an X-Road instance with its configuration anchor, set the owner and server code, create the token;
 * or create a lab on this machine (LabWizard); or restore a backup into this fresh server (RestoreFromBackup).
 */
export function FirstRunPage() {
  const t = useT('firstRun', 'common')
  const s = useFirstRunStore()
  const [mode, setMode] = useState<'join' | 'lab' | 'restore'>('join')
  const navigate = useRouterStore((r) => r.navigate)
  const [pin, setPin] = useState('')
  const [pin2, setPin2] = useState('')
  const [touched, setTouched] = useState(false)
  const load = s.load
  useEffect(() => {
    void load()
  }, [load])
  const active = FIRST_RUN_STEPS.indexOf(s.step)
  const ownerError = ownerProblem(s.owner, s.preview?.instance)
  const codeError = serverCodeProblem(s.serverCode)
  const needsPin = !s.status?.softwareTokenInitialized
  const pinError = !needsPin ? null : pin.length < PIN_MIN ? t('pin.tooShort', { count: PIN_MIN }) : pin !== pin2 ? t('pin.differ') : null

  const onFinish = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (pinError === null) void s.finish(pin).then((ok) => ok && (setPin(''), setPin2('')))
  }

  return (
    <Stack gap="lg" maw={860}>
      {s.step === 'done' ? null : (
        <div>
          <Text size="sm" fw={500} id="first-run-mode-label">{t('mode.question')}</Text>
          <SegmentedControl
            fullWidth styles={{ label: { whiteSpace: 'normal', lineHeight: 1.3 } }}
            aria-labelledby="first-run-mode-label" value={mode} onChange={(v) => setMode(v as 'join' | 'lab' | 'restore')}
            data={[{ value: 'join', label: t('mode.join') }, { value: 'lab', label: t('mode.lab') }, { value: 'restore', label: t('mode.restore') }]}
          />
        </div>
      )}
      {mode === 'restore' && s.step !== 'done' ? (
        <RestoreFromBackup />
      ) : mode === 'lab' && s.step !== 'done' ? (
        <>
          <div>
            <Title order={2}>{t('lab.title')}</Title>
            <Text c="dimmed" size="sm">{t('lab.intro')}</Text>
          </div>
          <LabWizard />
        </>
      ) : (
      <>
      <div>
        <Title order={2}>{t('join.title')}</Title>
        <Text c="dimmed" size="sm">{t('join.intro')}</Text>
      </div>
      {s.error ? <ErrorNotice error={s.error} onClose={s.clearError} /> : null}
      <Stepper active={active} allowNextStepsSelect={false} onStepClick={(i) => i < active && s.step !== 'done' && s.goTo(FIRST_RUN_STEPS[i] ?? 'anchor')}>
        <Stepper.Step label={t('join.anchor.step')} description={t('join.anchor.stepDescription')}>
          <Card withBorder>
            <Stack component="form" gap="sm" aria-label={t('join.anchor.form')} onSubmit={(e) => { e.preventDefault(); void s.checkAnchor() }}>
              <Text size="sm">{t('join.anchor.explain')}</Text>
              <Group>
                <FileButton accept=".xml,text/xml,application/xml" onChange={(file) => void file?.text().then(s.setAnchorXml)}>
                  {(props) => <Button variant="default" {...props}>{t('join.anchor.upload')}</Button>}
                </FileButton>
              </Group>
              <Textarea label={t('join.anchor.xml')} description={t('join.anchor.xmlDescription')} autosize minRows={4} maxRows={10} value={s.anchorXml} onChange={(e) => s.setAnchorXml(e.currentTarget.value)} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} />
              <Group justify="flex-end"><Button type="submit" loading={s.busy} disabled={s.anchorXml.trim() === ''}>{t('join.anchor.check')}</Button></Group>
            </Stack>
          </Card>
        </Stepper.Step>
        <Stepper.Step label={t('join.confirm.step')} description={t('join.confirm.stepDescription')}>
          <Card withBorder>
            <Stack gap="sm">
              <Text size="sm">{t('join.confirm.explain')}</Text>
              <Text size="sm">
                {t('join.confirm.instance', { instance: s.preview?.instance ?? '' })}
                {s.preview?.generatedAt ? ` · ${t('join.confirm.generated', { date: formatDateTime(s.preview.generatedAt) })}` : ''}
              </Text>
              <Code block data-testid="anchor-hash" style={{ fontSize: 14, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>{s.preview?.hash}</Code>
              <Text size="xs" c="dimmed">{t('join.confirm.sources', { sources: s.preview?.sources.join(', ') ?? '' })}</Text>
              <Checkbox label={t('join.confirm.matches')} checked={s.hashConfirmed} onChange={(e) => s.confirmHash(e.currentTarget.checked)} />
              <Group justify="space-between">
                <Button variant="default" onClick={() => s.goTo('anchor')}>{t('join.back')}</Button>
                <Button disabled={!s.hashConfirmed} onClick={() => s.goTo('identity')}>{t('join.continue')}</Button>
              </Group>
            </Stack>
          </Card>
        </Stepper.Step>
        <Stepper.Step label={t('join.owner.step')} description={t('join.owner.stepDescription')}>
          <Card withBorder>
            <Stack component="form" gap="sm" aria-label={t('join.owner.form')} onSubmit={(e) => { e.preventDefault(); if (!ownerError && !codeError) s.goTo('token') }}>
              <Text size="sm">{t('join.owner.explain')}</Text>
              <TextInput
                label={t('join.owner.member')} description={t('join.owner.memberDescription')} value={s.owner}
                error={(s.owner.length > 0 && ownerError) || fieldError(s.error, 'owner')} onChange={(e) => s.setIdentity(e.currentTarget.value, s.serverCode)}
              />
              <TextInput
                label={t('join.owner.serverCode')} description={t('join.owner.serverCodeDescription')} value={s.serverCode}
                onChange={(e) => s.setIdentity(s.owner, e.currentTarget.value)} error={(s.serverCode.length > 0 && codeError) || fieldError(s.error, 'serverCode')}
              />
              <Group justify="space-between">
                <Button variant="default" onClick={() => s.goTo('confirm')}>{t('join.back')}</Button>
                <Button type="submit" disabled={ownerError !== null || codeError !== null}>{t('join.continue')}</Button>
              </Group>
            </Stack>
          </Card>
        </Stepper.Step>
        <Stepper.Step label={t('join.token.step')} description={t('join.token.stepDescription')}>
          <Card withBorder>
            <Stack component="form" gap="sm" aria-label={t('join.token.form')} onSubmit={onFinish}>
              {needsPin ? (
                <>
                  <Text size="sm">{t('join.token.explain')}</Text>
                  <PasswordInput label={t('join.token.pin')} autoComplete="new-password" value={pin} onChange={(e) => setPin(e.currentTarget.value)} error={(touched && pin.length < PIN_MIN ? t('pin.tooShort', { count: PIN_MIN }) : null) || fieldError(s.error, 'softwareTokenPin')} />
                  <PasswordInput label={t('join.token.repeat')} autoComplete="new-password" value={pin2} onChange={(e) => setPin2(e.currentTarget.value)} error={touched && pin !== pin2 ? t('pin.differ') : null} />
                </>
              ) : (
                <Alert color="blue">{t('join.token.exists')}</Alert>
              )}
              <Text size="sm">{t('join.token.summary', { owner: s.owner, serverCode: s.serverCode })}</Text>
              <Group justify="space-between">
                <Button variant="default" onClick={() => s.goTo('identity')}>{t('join.back')}</Button>
                <Button type="submit" loading={s.busy}>{t('join.token.submit')}</Button>
              </Group>
            </Stack>
          </Card>
        </Stepper.Step>
        <Stepper.Completed>
          <Card withBorder>
            <Stack gap="sm">
              <Title order={3}>{t('join.done.title', { instance: s.status?.anchor?.instance ?? t('join.done.theInstance') })}</Title>
              <Text size="sm">{t('join.done.server')} <Code>{s.status?.serverId}</Code></Text>
              <Text size="sm">{t('join.done.next')}</Text>
              <List size="sm">
                <List.Item>{t('join.done.next1')}</List.Item>
                <List.Item>{t('join.done.next2')}</List.Item>
                <List.Item>{t('join.done.next3')}</List.Item>
              </List>
              <Group><Button onClick={() => navigate('keys')}>{t('join.done.keys')}</Button></Group>
            </Stack>
          </Card>
        </Stepper.Completed>
      </Stepper>
      </>
      )}
    </Stack>
  )
}
