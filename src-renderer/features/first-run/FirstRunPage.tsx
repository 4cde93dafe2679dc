import { useEffect, useState, type FormEvent } from 'react'
import { Alert, Button, Card, Checkbox, Code, FileButton, Group, List, PasswordInput, SegmentedControl, Stack, Stepper, Text, TextInput, Textarea, Title } from '@mantine/core'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useRouterStore } from '../../app/router-store'
import { FIRST_RUN_STEPS, ownerProblem, useFirstRunStore } from './first-run-store'
import { LabWizard } from './LabWizard'

const PIN_MIN = 4

/**
 * First run: join an X-Road instance with its configuration anchor, set the owner and server code, create the token;
 * or create a lab on this machine (LabWizard).
 */
export function FirstRunPage() {
  const s = useFirstRunStore()
  const [mode, setMode] = useState<'join' | 'lab'>('join')
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
  const codeError = s.serverCode.trim() === '' ? 'Give the server code' : /[/\\:;%]/.test(s.serverCode) ? 'The server code may not contain / \\ : ; or %' : null
  const needsPin = !s.status?.softwareTokenInitialized
  const pinError = !needsPin ? null : pin.length < PIN_MIN ? `Use at least ${PIN_MIN} characters` : pin !== pin2 ? 'The PINs differ' : null

  const onFinish = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (pinError === null) void s.finish(pin).then((ok) => ok && (setPin(''), setPin2('')))
  }

  return (
    <Stack gap="lg" maw={860}>
      {s.step === 'done' ? null : (
        <div>
          <Text size="sm" fw={500} id="first-run-mode-label">How should this server start?</Text>
          <SegmentedControl
            aria-labelledby="first-run-mode-label" value={mode} onChange={(v) => setMode(v as 'join' | 'lab')}
            data={[{ value: 'join', label: 'Join an existing instance' }, { value: 'lab', label: 'Create a lab on this machine' }]}
          />
        </div>
      )}
      {mode === 'lab' && s.step !== 'done' ? (
        <>
          <div>
            <Title order={2}>Create a lab on this machine</Title>
            <Text c="dimmed" size="sm">One form, then the server does the rest step by step and shows what it did. You confirm the anchor before it joins.</Text>
          </div>
          <LabWizard />
        </>
      ) : (
      <>
      <div>
        <Title order={2}>Join an X-Road instance</Title>
        <Text c="dimmed" size="sm">Five short steps. Nothing is stored until the last one, and you can go back at any time.</Text>
      </div>
      {s.error ? <ErrorNotice error={s.error} onClose={s.clearError} /> : null}
      <Stepper active={active} allowNextStepsSelect={false} onStepClick={(i) => i < active && s.step !== 'done' && s.goTo(FIRST_RUN_STEPS[i] ?? 'anchor')}>
        <Stepper.Step label="Anchor" description="Trust the instance">
          <Card withBorder>
            <Stack component="form" gap="sm" aria-label="Configuration anchor" onSubmit={(e) => { e.preventDefault(); void s.checkAnchor() }}>
              <Text size="sm">
                The configuration anchor tells this server where to download the instance&apos;s global configuration and which keys sign it.
                Get the anchor file from your central server operator, then upload it or paste its content.
              </Text>
              <Group>
                <FileButton accept=".xml,text/xml,application/xml" onChange={(file) => void file?.text().then(s.setAnchorXml)}>
                  {(props) => <Button variant="default" {...props}>Upload anchor file…</Button>}
                </FileButton>
              </Group>
              <Textarea label="Anchor XML" description="The content of configuration-anchor.xml" autosize minRows={4} maxRows={10} value={s.anchorXml} onChange={(e) => s.setAnchorXml(e.currentTarget.value)} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} />
              <Group justify="flex-end"><Button type="submit" loading={s.busy} disabled={s.anchorXml.trim() === ''}>Check anchor</Button></Group>
            </Stack>
          </Card>
        </Stepper.Step>
        <Stepper.Step label="Confirm" description="Compare the hash">
          <Card withBorder>
            <Stack gap="sm">
              <Text size="sm">Compare this fingerprint with the one your central server operator published (by phone, letter or their web site). If they differ, the file is not genuine: stop and ask.</Text>
              <Text size="sm">Instance: <b>{s.preview?.instance}</b>{s.preview?.generatedAt ? ` · generated ${new Date(s.preview.generatedAt).toLocaleString()}` : ''}</Text>
              <Code block data-testid="anchor-hash" style={{ fontSize: 14, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}>{s.preview?.hash}</Code>
              <Text size="xs" c="dimmed">Configuration is downloaded from: {s.preview?.sources.join(', ')}</Text>
              <Checkbox label="The fingerprint matches the published one" checked={s.hashConfirmed} onChange={(e) => s.confirmHash(e.currentTarget.checked)} />
              <Group justify="space-between">
                <Button variant="default" onClick={() => s.goTo('anchor')}>Back</Button>
                <Button disabled={!s.hashConfirmed} onClick={() => s.goTo('identity')}>Continue</Button>
              </Group>
            </Stack>
          </Card>
        </Stepper.Step>
        <Stepper.Step label="Owner" description="Who runs this server">
          <Card withBorder>
            <Stack component="form" gap="sm" aria-label="Server owner" onSubmit={(e) => { e.preventDefault(); if (!ownerError && !codeError) s.goTo('token') }}>
              <Text size="sm">The owner is the member organisation responsible for this server; the server code tells its servers apart. Both come from your registration with the central server.</Text>
              <TextInput label="Owner member" description="INSTANCE/CLASS/CODE, e.g. LAB/GOV/1234" value={s.owner} error={s.owner.length > 0 && ownerError} onChange={(e) => s.setIdentity(e.currentTarget.value, s.serverCode)} />
              <TextInput label="Server code" description="A short name, unique among the owner's servers, e.g. SS1" value={s.serverCode} onChange={(e) => s.setIdentity(s.owner, e.currentTarget.value)} error={s.serverCode.length > 0 && codeError} />
              <Group justify="space-between">
                <Button variant="default" onClick={() => s.goTo('confirm')}>Back</Button>
                <Button type="submit" disabled={ownerError !== null || codeError !== null}>Continue</Button>
              </Group>
            </Stack>
          </Card>
        </Stepper.Step>
        <Stepper.Step label="Token" description="Protect the keys">
          <Card withBorder>
            <Stack component="form" gap="sm" aria-label="Software token" onSubmit={onFinish}>
              {needsPin ? (
                <>
                  <Text size="sm">The software token keeps this server&apos;s private keys, encrypted with a PIN. You type the PIN after every restart to let the server sign. Keep it safe: it cannot be recovered.</Text>
                  <PasswordInput label="Token PIN" autoComplete="new-password" value={pin} onChange={(e) => setPin(e.currentTarget.value)} error={touched && pin.length < PIN_MIN ? `Use at least ${PIN_MIN} characters` : null} />
                  <PasswordInput label="Repeat token PIN" autoComplete="new-password" value={pin2} onChange={(e) => setPin2(e.currentTarget.value)} error={touched && pin !== pin2 ? 'The PINs differ' : null} />
                </>
              ) : (
                <Alert color="blue">The software token exists already; its PIN stays as it is.</Alert>
              )}
              <Text size="sm">Joining stores the anchor, the owner {s.owner} and server code {s.serverCode}, and starts downloading global configuration.</Text>
              <Group justify="space-between">
                <Button variant="default" onClick={() => s.goTo('identity')}>Back</Button>
                <Button type="submit" loading={s.busy}>Join the instance</Button>
              </Group>
            </Stack>
          </Card>
        </Stepper.Step>
        <Stepper.Completed>
          <Card withBorder>
            <Stack gap="sm">
              <Title order={3}>This server has joined {s.status?.anchor?.instance ?? 'the instance'}</Title>
              <Text size="sm">Server: <Code>{s.status?.serverId}</Code></Text>
              <Text size="sm">What comes next:</Text>
              <List size="sm">
                <List.Item>Log in to the token and generate a signing key and an authentication key.</List.Item>
                <List.Item>Make certificate requests (CSRs) and send them to your certification authority.</List.Item>
                <List.Item>Import and activate the certificates you get back, then add clients and services.</List.Item>
              </List>
              <Group><Button onClick={() => navigate('keys')}>Go to keys and certificates</Button></Group>
            </Stack>
          </Card>
        </Stepper.Completed>
      </Stepper>
      </>
      )}
    </Stack>
  )
}
