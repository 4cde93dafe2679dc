import { useEffect, useState, type FormEvent } from 'react'
import { Alert, Badge, Button, Card, Checkbox, Code, Group, List, Loader, PasswordInput, Select, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core'
import { SOFTWARE_TOKEN_PIN_POLICY, type LabStepState } from '@shared/admin-api/admin-api'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useRouterStore } from '../../app/router-store'
import { MEMBER_CLASSES, labFormProblems, useLabWizardStore } from './lab-store'

const POLL_MS = 500
const STEP_BADGE: Record<LabStepState, { color: string; text: string }> = {
  pending: { color: 'gray', text: 'Waiting' },
  running: { color: 'blue', text: 'Working' },
  done: { color: 'green', text: 'Done' },
  failed: { color: 'red', text: 'Failed' },
}

/** First run, second choice: a small trust domain on this computer with this server as its first member's server. */
export function LabWizard() {
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
  const pinError = pin.length < SOFTWARE_TOKEN_PIN_POLICY.minLength ? `Use at least ${SOFTWARE_TOKEN_PIN_POLICY.minLength} characters` : pin !== pin2 ? 'The PINs differ' : null
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
          <Stack component="form" gap="sm" aria-label="Create a lab" onSubmit={onCreate}>
            <Text size="sm">
              This creates a small trust domain on this computer: its own certification authority, an OCSP responder that
              vouches for certificates, a time-stamping authority and the signed global configuration — everything a central
              server would provide. This security server becomes the first server in it. It is meant for trying Gatehouse out,
              training and small closed set-ups; nothing leaves this computer.
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label="Instance name" description="A short name for the trust domain, e.g. LAB" value={s.form.instance} error={shown('instance')} onChange={(e) => s.setForm({ instance: e.currentTarget.value })} />
              <Select label="Member class" description="What kind of organisation owns this server" data={MEMBER_CLASSES} value={s.form.memberClass} onChange={(v) => v && s.setForm({ memberClass: v })} allowDeselect={false} />
              <TextInput label="Member code" description="The owner's registry code, e.g. 1234" value={s.form.memberCode} error={shown('memberCode')} onChange={(e) => s.setForm({ memberCode: e.currentTarget.value })} />
              <TextInput label="Member name" description="The owner organisation's name" value={s.form.memberName} error={shown('memberName')} onChange={(e) => s.setForm({ memberName: e.currentTarget.value })} />
              <TextInput label="Subsystem code" description="A first subsystem for your information system" value={s.form.subsystemCode} error={shown('subsystemCode')} onChange={(e) => s.setForm({ subsystemCode: e.currentTarget.value })} />
              <TextInput label="Server code" description="The name of this server in the lab, e.g. SS1" value={s.form.serverCode} error={shown('serverCode')} onChange={(e) => s.setForm({ serverCode: e.currentTarget.value })} />
            </SimpleGrid>
            <Text size="sm">
              The software token keeps this server&apos;s private keys, encrypted with a PIN. You type the PIN after every
              restart to let the server sign. It cannot be recovered. Rule: at least {SOFTWARE_TOKEN_PIN_POLICY.minLength} printable characters.
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <PasswordInput label="Token PIN" autoComplete="new-password" value={pin} onChange={(e) => setPin(e.currentTarget.value)} error={touched && pin.length < SOFTWARE_TOKEN_PIN_POLICY.minLength ? `Use at least ${SOFTWARE_TOKEN_PIN_POLICY.minLength} characters` : null} />
              <PasswordInput label="Repeat token PIN" autoComplete="new-password" value={pin2} onChange={(e) => setPin2(e.currentTarget.value)} error={touched && pin !== pin2 ? 'The PINs differ' : null} />
            </SimpleGrid>
            <Group justify="flex-end"><Button type="submit" loading={s.busy}>Create the lab</Button></Group>
          </Stack>
        </Card>
      ) : (
        <Card withBorder>
          <Stack gap="sm">
            <Title order={3}>{state === 'done' ? 'The lab is ready' : state === 'failed' ? 'Creating the lab stopped' : 'Creating the lab'}</Title>
            <List spacing="xs" listStyleType="none" aria-label="Lab creation steps" data-testid="lab-steps">
              {s.operation.steps.map((step, i) => (
                <List.Item key={step.id}>
                  <Group gap="xs" wrap="nowrap" align="flex-start">
                    <Badge w={84} style={{ flexShrink: 0 }} color={STEP_BADGE[step.state].color} variant="light" leftSection={step.state === 'running' && state === 'running' ? <Loader size={10} /> : null}>
                      {STEP_BADGE[step.state].text}
                    </Badge>
                    <div>
                      <Text size="sm" fw={500}>{i + 1}. {step.title}</Text>
                      {step.detail ? <Text size="xs" c={step.state === 'failed' ? 'red' : 'dimmed'}>{step.detail}</Text> : null}
                    </div>
                  </Group>
                </List.Item>
              ))}
            </List>
            {state === 'running' ? <Text size="sm" role="status" aria-live="polite">Working… this takes a few seconds.</Text> : null}
            {state === 'awaiting-confirmation' && s.operation.anchor ? (
              <Stack gap="xs">
                <Text size="sm">
                  The configuration anchor is the lab&apos;s root of trust: it says where the global configuration comes from and which key
                  signs it. Other servers that join this lab check this fingerprint, so write it down. This server joins with it next.
                </Text>
                <Text size="sm">Instance: <b>{s.operation.anchor.instance}</b></Text>
                <Code block data-testid="lab-anchor-hash" style={{ fontSize: 14, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>{s.operation.anchor.hash}</Code>
                <Checkbox label="I have noted the fingerprint of the lab anchor" checked={s.hashNoted} onChange={(e) => s.noteHash(e.currentTarget.checked)} />
                <Group justify="flex-end"><Button disabled={!s.hashNoted} loading={s.busy} onClick={() => void s.confirm()}>Join the lab</Button></Group>
              </Stack>
            ) : null}
            {state === 'failed' ? (
              <Alert color="red" title="What to do">
                {s.operation.error?.message} Correct the cause, then start over: the half-made lab is replaced.
                <Group mt="sm"><Button variant="default" onClick={s.startOver}>Start over</Button></Group>
              </Alert>
            ) : null}
            {state === 'done' ? (
              <Stack gap="xs">
                <Text size="sm">This server has joined {s.operation.anchor?.instance}. Its keys are certified and active, and the lab services run while this server runs:</Text>
                <List size="sm">
                  <List.Item>OCSP responder: <Code>{s.status?.services.ocspUrl}</Code></List.Item>
                  <List.Item>Time-stamping: <Code>{s.status?.services.tsaUrl}</Code></List.Item>
                  <List.Item>Global configuration: <Code>{s.status?.services.configurationUrl}</Code></List.Item>
                </List>
                <Text size="sm">Next: add services to the subsystem and grant access to them.</Text>
                <Group><Button onClick={() => navigate('keys')}>Go to keys and certificates</Button><Button variant="default" onClick={() => navigate('services')}>Go to clients and services</Button></Group>
              </Stack>
            ) : null}
          </Stack>
        </Card>
      )}
    </Stack>
  )
}
