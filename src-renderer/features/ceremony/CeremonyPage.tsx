import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import {
  Alert, Badge, Button, Card, Code, FileButton, Grid, Group, List, Loader, NativeSelect, PasswordInput, SegmentedControl, Stack, Table,
  Text, TextInput, Textarea, Timeline, Title,
} from '@mantine/core'
import type { CeremonyConfirmationInput, CeremonyKeyAlgorithm, CeremonyParticipantInfo, CeremonyRoleName, CeremonyTranscriptView } from '@shared/admin-api/admin-api'
import { AdminError } from '../../lib/admin-client'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { readFileForUpload } from '../../lib/save-file'
import { formatTime } from '../../lib/format-time'
import {
  CONFIRMING_ROLES, ROLE_WORDS, STEP_INFO, WIZARD_STEPS, confirmationProblem, participantsProblem, useCeremonyStore, wizardStep, type WizardStep,
} from './ceremony-store'

const STEP_LABELS: Record<WizardStep, string> = {
  participants: 'People', offline: 'Offline', token: 'Token', login: 'Log in', key: 'Key', csr: 'Request', certificate: 'Certificate', seal: 'Seal', done: 'Done',
}
const OUTCOME_COLORS = { done: 'green', warning: 'yellow', refused: 'red' } as const
const OUTCOME_WORDS = { done: 'done', warning: 'warning', refused: 'refused' } as const
const DEFAULT_MODULE = '/usr/lib/softhsm/libsofthsm2.so'

/** Key ceremonies: the list, then the wizard for one ceremony beside its transcript. */
export function CeremonyPage() {
  const { view, load } = useCeremonyStore()
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Key ceremony</Title>
        <Text c="dimmed" size="sm">
          Generate a key on a hardware token on an offline machine, with named people present, two of them confirming every step that creates or
          uses the key. Every step is written to a tamper-evident transcript that is sealed at the end and printed for everyone to sign.
        </Text>
      </div>
      {view === null ? <CeremonyList /> : <Wizard view={view} />}
    </Stack>
  )
}

function CeremonyList() {
  const s = useCeremonyStore()
  const [title, setTitle] = useState('')
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    if (title.trim() !== '') void s.create(title.trim())
  }
  return (
    <>
      {s.error ? <ErrorNotice error={s.error} /> : null}
      <Card withBorder radius="md" component="form" onSubmit={onSubmit} aria-label="Start a new ceremony">
        <Stack gap="xs">
          <Title order={4}>Start a new key ceremony</Title>
          <Text size="sm" c="dimmed">Give it a title that says what the key is for; it heads the transcript and the printed report.</Text>
          <Group align="flex-end">
            <TextInput label="Ceremony title" placeholder="Signing key for LAB/GOV/1234, 2026" value={title} onChange={(e) => setTitle(e.currentTarget.value)} w={420} />
            <Button type="submit" disabled={title.trim() === ''} loading={s.working !== null}>Start ceremony</Button>
          </Group>
        </Stack>
      </Card>
      <Card withBorder radius="md" padding={0}>
        <Table aria-label="Ceremonies" striped>
          <Table.Thead>
            <Table.Tr><Table.Th>Ceremony</Table.Th><Table.Th>Started</Table.Th><Table.Th>People</Table.Th><Table.Th>Steps</Table.Th><Table.Th>State</Table.Th><Table.Th /></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {s.ceremonies.length === 0 ? (
              <Table.Tr><Table.Td colSpan={6}><Text size="sm" c="dimmed" ta="center" py="md">{s.loading ? 'Loading…' : 'No ceremony has been held on this server yet.'}</Text></Table.Td></Table.Tr>
            ) : (
              s.ceremonies.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td><Text size="sm" fw={500}>{c.title}</Text></Table.Td>
                  <Table.Td><Text size="sm">{formatTime(c.startedAt)}</Text></Table.Td>
                  <Table.Td>{c.participants.length}</Table.Td>
                  <Table.Td>{c.steps}{c.refusals > 0 ? ` (${c.refusals} refused)` : ''}</Table.Td>
                  <Table.Td>{c.progress.sealed ? <Badge color="green">Sealed</Badge> : <Badge color="blue" variant="light">In progress</Badge>}</Table.Td>
                  <Table.Td><Button size="xs" variant="light" onClick={() => void s.open(c.id)} aria-label={`Open ceremony ${c.title}`}>Open</Button></Table.Td>
                </Table.Tr>
              ))
            )}
          </Table.Tbody>
        </Table>
      </Card>
    </>
  )
}

function Wizard({ view }: { view: CeremonyTranscriptView }) {
  const s = useCeremonyStore()
  const step = wizardStep(view, s.skipCertificate)
  const active = WIZARD_STEPS.indexOf(step)
  const info = STEP_INFO[step]
  return (
    <>
      <Group justify="space-between">
        <div>
          <Title order={3}>{view.ceremony.title}</Title>
          <Text size="xs" c="dimmed">Ceremony {view.ceremony.id}, started {formatTime(view.ceremony.startedAt)}</Text>
        </div>
        <Button variant="default" onClick={() => s.close()}>All ceremonies</Button>
      </Group>
      <StepTrail active={active} />
      {s.error ? <ErrorNotice error={s.error} /> : null}
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Card withBorder radius="md" component="section" aria-labelledby="ceremony-step-title">
            <Stack gap="sm">
              <Group justify="space-between" align="flex-start">
                <Title order={4} id="ceremony-step-title">{step === 'done' ? info.title : `Step ${active + 1} of ${WIZARD_STEPS.length - 1}: ${info.title}`}</Title>
                {info.dualControl ? <Badge color="grape" variant="light">Two people confirm</Badge> : null}
              </Group>
              <Text size="sm"><Text span fw={600}>Who must be present: </Text>{info.present}</Text>
              <Text size="sm"><Text span fw={600}>What is recorded: </Text>{info.records}</Text>
              {s.working ? <Alert color="blue" icon={<Loader size="sm" />} role="status" aria-live="polite">{s.working}</Alert> : null}
              <Refusal view={view} />
              <StepPanel step={step} view={view} />
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <TranscriptCard view={view} />
        </Grid.Col>
      </Grid>
    </>
  )
}

/** The steps in order as a list (not buttons: the order is fixed), the current one marked for screen readers. */
function StepTrail({ active }: { active: number }) {
  return (
    <Group component="ol" gap={6} aria-label="Ceremony steps" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {WIZARD_STEPS.slice(0, -1).map((name, i) => (
        <li key={name} aria-current={i === active ? 'step' : undefined}>
          <Badge
            size="lg"
            radius="sm"
            variant={i === active ? 'filled' : i < active ? 'light' : 'outline'}
            color={i < active ? 'green' : i === active ? 'indigo' : 'gray'}
          >
            {i < active ? '✓ ' : `${i + 1}. `}{STEP_LABELS[name]}
          </Badge>
        </li>
      ))}
    </Group>
  )
}

/** A refused step in plain words, and whether the transcript recorded it. */
function Refusal({ view }: { view: CeremonyTranscriptView }) {
  const { refusal, dismissRefusal } = useCeremonyStore()
  if (refusal === null || refusal === undefined) return null
  const message = refusal instanceof Error ? refusal.message : String(refusal)
  const code = refusal instanceof AdminError ? refusal.code : 'internal_error'
  const last = view.entries.at(-1)
  const recorded = last !== undefined && last.outcome === 'refused' && last.details.reason === message
  const dual = code.endsWith('ceremony_step_refused')
  return (
    <Alert color="red" role="alert" title={dual ? 'Refused' : 'The step did not complete'} withCloseButton onClose={dismissRefusal} closeButtonLabel="Dismiss">
      <Text size="sm">{message}</Text>
      <Text size="xs" mt={4}>
        {recorded ? `The refusal is recorded in the transcript as step ${last?.seq ?? ''}. Nothing was done on the token.` : 'Correct the input and try again.'}
        {' '}Code for support: <Code>{code}</Code>
      </Text>
    </Alert>
  )
}

function nameOf(view: CeremonyTranscriptView, id: string): string {
  return view.ceremony.participants.find((p) => p.id === id)?.name ?? id
}

function StepPanel({ step, view }: { step: WizardStep; view: CeremonyTranscriptView }) {
  switch (step) {
    case 'participants': return <ParticipantsStep view={view} />
    case 'offline': return <OfflineStep />
    case 'token': return <TokenStep />
    case 'login': return <LoginStep view={view} />
    case 'key': return <KeyStep view={view} />
    case 'csr': return <CsrStep view={view} />
    case 'certificate': return <CertificateStep />
    case 'seal': return <SealStep view={view} />
    default: return <DoneStep view={view} />
  }
}

function ParticipantsStep({ view }: { view: CeremonyTranscriptView }) {
  const s = useCeremonyStore()
  const [name, setName] = useState('')
  const [role, setRole] = useState<CeremonyRoleName>(view.ceremony.participants.some((p) => p.role === 'administrator') ? 'custodian' : 'administrator')
  const [passphrase, setPassphrase] = useState('')
  const [repeat, setRepeat] = useState('')
  const mismatch = repeat !== '' && passphrase !== repeat
  const short = passphrase !== '' && passphrase.length < 8
  const problem = participantsProblem(view.ceremony.participants)
  const onSubmit = async (event: FormEvent): Promise<void> => {
    event.preventDefault()
    if (await s.addParticipant({ name: name.trim(), role, passphrase })) {
      setName('')
      setRole('custodian')
    }
    setPassphrase('')
    setRepeat('')
  }
  return (
    <Stack gap="sm">
      <ParticipantsTable participants={view.ceremony.participants} />
      <Card withBorder radius="sm" component="form" onSubmit={(e) => void onSubmit(e)} aria-label="Add a participant">
        <Stack gap="xs">
          <Text size="sm" fw={600}>Add a participant</Text>
          <Text size="xs" c="dimmed">Each person types their own passphrase, out of sight of the others, and will type it again to confirm key steps.</Text>
          <Group grow align="flex-start">
            <TextInput label="Full name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <NativeSelect
              label="Role"
              value={role}
              onChange={(e) => setRole(e.currentTarget.value as CeremonyRoleName)}
              data={(Object.keys(ROLE_WORDS) as CeremonyRoleName[]).map((r) => ({ value: r, label: ROLE_WORDS[r] }))}
            />
          </Group>
          <Group grow align="flex-start">
            <PasswordInput label="Their passphrase" autoComplete="new-password" value={passphrase} onChange={(e) => setPassphrase(e.currentTarget.value)} error={short ? 'At least 8 characters' : null} />
            <PasswordInput label="Repeat the passphrase" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)} error={mismatch ? 'The passphrases differ' : null} />
          </Group>
          <Group>
            <Button type="submit" variant="light" disabled={name.trim() === '' || passphrase.length < 8 || passphrase !== repeat || s.working !== null}>Add participant</Button>
          </Group>
        </Stack>
      </Card>
      {problem ? <Text size="sm" c="dimmed">{problem}</Text> : <Text size="sm">Everyone is registered? The list is fixed once the first step is recorded.</Text>}
      <Group>
        <Button onClick={() => void s.checkOffline()} disabled={problem !== null || s.working !== null}>Participants complete: check the machine is offline</Button>
      </Group>
    </Stack>
  )
}

function ParticipantsTable({ participants }: { participants: readonly CeremonyParticipantInfo[] }) {
  if (participants.length === 0) return <Text size="sm" c="dimmed">Nobody is registered yet. Start with the ceremony administrator.</Text>
  return (
    <Table aria-label="Participants" withTableBorder>
      <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Role</Table.Th><Table.Th>Confirms key steps</Table.Th></Table.Tr></Table.Thead>
      <Table.Tbody>
        {participants.map((p) => (
          <Table.Tr key={p.id}>
            <Table.Td>{p.name}</Table.Td><Table.Td>{ROLE_WORDS[p.role]}</Table.Td><Table.Td>{CONFIRMING_ROLES.includes(p.role) ? 'Yes' : 'No (observes)'}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  )
}

function OfflineStep() {
  const s = useCeremonyStore()
  return (
    <Group>
      <Button onClick={() => void s.checkOffline()} disabled={s.working !== null}>Check the machine is offline</Button>
    </Group>
  )
}

function OfflineResult() {
  const offline = useCeremonyStore((s) => s.offline)
  if (offline === null) return null
  return offline.offline
    ? <Alert color="green" title="The machine is offline">No network interface other than loopback is up.</Alert>
    : (
        <Alert color="yellow" title="Warning: network interfaces are up" role="status">
          <Text size="sm">Recorded as a warning in the transcript. Unplug the network and disable wireless before generating keys: {offline.interfacesUp.join(', ')}.</Text>
        </Alert>
      )
}

function TokenStep() {
  const s = useCeremonyStore()
  const [modulePath, setModulePath] = useState(DEFAULT_MODULE)
  const [tokenLabel, setTokenLabel] = useState('')
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    void s.identifyToken({ modulePath: modulePath.trim(), tokenLabel: tokenLabel.trim() })
  }
  return (
    <Stack gap="sm">
      <OfflineResult />
      <form onSubmit={onSubmit} aria-label="Identify the token">
        <Stack gap="xs">
          <TextInput label="PKCS#11 module" description="The token vendor's library, installed in a system folder" value={modulePath} onChange={(e) => setModulePath(e.currentTarget.value)} />
          <TextInput label="Token label" description="As printed on the token or shown by the vendor's tool" value={tokenLabel} onChange={(e) => setTokenLabel(e.currentTarget.value)} />
          <Group><Button type="submit" disabled={modulePath.trim() === '' || tokenLabel.trim() === '' || s.working !== null}>Identify token</Button></Group>
        </Stack>
      </form>
    </Stack>
  )
}

function TokenDetails() {
  const token = useCeremonyStore((s) => s.token)
  if (token === null) return null
  return (
    <Alert color="gray" title={`Token ${token.label}`}>
      <Text size="sm">{token.manufacturer} {token.model}, serial {token.serialNumber}; hardware {token.hardwareVersion}, firmware {token.firmwareVersion}.</Text>
      <Text size="xs" c="dimmed">{token.mechanisms.length} mechanisms recorded.</Text>
    </Alert>
  )
}

function LoginStep({ view }: { view: CeremonyTranscriptView }) {
  const s = useCeremonyStore()
  const [pin, setPin] = useState('')
  const onSubmit = async (event: FormEvent): Promise<void> => {
    event.preventDefault()
    const value = pin
    setPin('')
    await s.login(value)
  }
  const token = view.ceremony.progress.token
  const again = view.ceremony.progress.key !== null
  return (
    <Stack gap="sm">
      <TokenDetails />
      {again ? <Text size="sm">The token session ended (the server restarted, or no step was taken for 30 minutes). Log in again to continue.</Text> : null}
      <form onSubmit={(e) => void onSubmit(e)} aria-label="Log in to the token">
        <Stack gap="xs">
          <PasswordInput label={`PIN of token ${token?.label ?? ''}`.trim()} autoComplete="off" value={pin} onChange={(e) => setPin(e.currentTarget.value)} />
          <Group><Button type="submit" disabled={pin === '' || s.working !== null}>Log in</Button></Group>
        </Stack>
      </form>
    </Stack>
  )
}

const EMPTY_CONFIRMATIONS: CeremonyConfirmationInput[] = [{ participant: '', passphrase: '' }, { participant: '', passphrase: '' }]

/** Two people choose themselves and type their own passphrases (masked). */
function DualControl({ view, value, onChange }: { view: CeremonyTranscriptView; value: CeremonyConfirmationInput[]; onChange(next: CeremonyConfirmationInput[]): void }) {
  const people = view.ceremony.participants
  const options = [{ value: '', label: 'Choose a person' }, ...people.map((p) => ({ value: p.id, label: `${p.name} (${ROLE_WORDS[p.role].toLowerCase()})` }))]
  const ordinal = ['First', 'Second']
  return (
    <Card withBorder radius="sm" bg="grape.0" component="fieldset" aria-label="Dual control confirmations">
      <Stack gap="xs">
        <Text size="sm" fw={600}>Dual control: two different people confirm</Text>
        {value.map((c, i) => (
          <Group grow key={ordinal[i]} align="flex-start">
            <NativeSelect
              label={`${ordinal[i]} person`}
              value={c.participant}
              data={options}
              onChange={(e) => onChange(value.map((x, j) => (j === i ? { ...x, participant: e.currentTarget.value } : x)))}
            />
            <PasswordInput
              label={`${ordinal[i]} person's passphrase`}
              autoComplete="off"
              value={c.passphrase}
              onChange={(e) => onChange(value.map((x, j) => (j === i ? { ...x, passphrase: e.currentTarget.value } : x)))}
            />
          </Group>
        ))}
      </Stack>
    </Card>
  )
}

/** A dual-control form: the step's own fields, the two confirmations, and the button; passphrases are cleared after each try. */
function ControlledForm({ view, label, action, ready, children, onRun }: {
  view: CeremonyTranscriptView; label: string; action: string; ready: boolean; children?: ReactNode
  onRun(confirmations: CeremonyConfirmationInput[]): Promise<boolean>
}) {
  const working = useCeremonyStore((s) => s.working)
  const [confirmations, setConfirmations] = useState(EMPTY_CONFIRMATIONS)
  const problem = confirmationProblem(confirmations, view.ceremony.participants)
  const onSubmit = async (event: FormEvent): Promise<void> => {
    event.preventDefault()
    const presented = confirmations.filter((c) => c.participant !== '')
    setConfirmations(confirmations.map((c) => ({ ...c, passphrase: '' })))
    await onRun(presented)
  }
  return (
    <form onSubmit={(e) => void onSubmit(e)} aria-label={label}>
      <Stack gap="sm">
        {children}
        <DualControl view={view} value={confirmations} onChange={setConfirmations} />
        {problem ? <Text size="sm" c="dimmed">{problem}</Text> : null}
        <Group>
          <Button type="submit" disabled={!ready || working !== null}>{action}</Button>
          {/* Sending without both confirmations is allowed: the server refuses and records the refusal. */}
          {problem !== null && ready ? <Text size="xs" c="dimmed">Pressing it now is refused and the refusal is recorded.</Text> : null}
        </Group>
      </Stack>
    </form>
  )
}

function KeyStep({ view }: { view: CeremonyTranscriptView }) {
  const s = useCeremonyStore()
  const [label, setLabel] = useState('sign-1')
  const [algorithm, setAlgorithm] = useState<CeremonyKeyAlgorithm>('ec-p256')
  return (
    <ControlledForm view={view} label="Generate the key pair" action="Generate key pair" ready={/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(label)} onRun={(c) => s.generateKey({ label, algorithm }, c)}>
      <Group grow align="flex-start">
        <TextInput label="Key label on the token" description="Letters, digits, dots, dashes" value={label} onChange={(e) => setLabel(e.currentTarget.value)} />
        <NativeSelect
          label="Algorithm"
          description="X-Road accepts both"
          value={algorithm}
          onChange={(e) => setAlgorithm(e.currentTarget.value as CeremonyKeyAlgorithm)}
          data={[{ value: 'ec-p256', label: 'ECDSA P-256' }, { value: 'rsa-2048', label: 'RSA 2048' }, { value: 'rsa-3072', label: 'RSA 3072' }, { value: 'rsa-4096', label: 'RSA 4096' }]}
        />
      </Group>
    </ControlledForm>
  )
}

function CsrStep({ view }: { view: CeremonyTranscriptView }) {
  const s = useCeremonyStore()
  const [member, setMember] = useState('')
  const [format, setFormat] = useState<'pem' | 'der'>('pem')
  const key = view.ceremony.progress.key
  return (
    <ControlledForm view={view} label="Create the certificate request" action="Create request" ready={member.trim() !== ''} onRun={(c) => s.createCsr({ member: member.trim(), format }, c)}>
      {key ? <Text size="sm">Key <Code>{key.label}</Code> ({key.algorithm}), public key SHA-256 <Code>{key.publicKeySha256.slice(0, 16)}…</Code></Text> : null}
      <Group grow align="flex-start">
        <TextInput
          label={key?.usage === 'auth' ? 'Security server' : 'Member'}
          placeholder={key?.usage === 'auth' ? 'LAB:GOV:1234:ss1' : 'LAB:GOV:1234'}
          description="Whose key this is: instance, member class and code"
          value={member}
          onChange={(e) => setMember(e.currentTarget.value)}
        />
        <div>
          <Text size="sm" fw={500} id="csr-format-label">File format</Text>
          <SegmentedControl aria-labelledby="csr-format-label" value={format} onChange={(v) => setFormat(v as 'pem' | 'der')} data={[{ value: 'pem', label: 'PEM' }, { value: 'der', label: 'DER' }]} />
        </div>
      </Group>
    </ControlledForm>
  )
}

function CsrDownload() {
  const s = useCeremonyStore()
  const csr = s.csr
  if (csr === null) return null
  return (
    <Card withBorder radius="sm">
      <Group align="flex-start" wrap="nowrap">
        <Stack gap={4} style={{ flex: 1 }}>
          <Text size="sm" fw={600}>Certificate request ready: {csr.fileName}</Text>
          <Text size="xs">SHA-256 <Code>{csr.sha256}</Code></Text>
          <Text size="xs" c="dimmed">Save it to the removable media and take it to the CA.{csr.qrPng ? ' The QR code holds the same PEM text for a CA that reads it with a camera.' : ''}</Text>
          <Group><Button size="xs" onClick={() => s.saveCsr()}>{csr.qrPng ? 'Save request and QR code' : 'Save request'}</Button></Group>
        </Stack>
        {csr.qrPng ? <img src={`data:image/png;base64,${csr.qrPng.content}`} alt="QR code of the certificate request" width={120} height={120} /> : null}
      </Group>
    </Card>
  )
}

function CertificateStep() {
  const s = useCeremonyStore()
  const [certificatePem, setCertificatePem] = useState('')
  const [caCertificatePem, setCaCertificatePem] = useState('')
  const read = async (file: File | null, set: (text: string) => void): Promise<void> => {
    if (file === null) return
    const { content, encoding } = await readFileForUpload(file)
    set(encoding === 'utf8' ? content : '')
  }
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    void s.importCertificate({ certificatePem, caCertificatePem })
  }
  return (
    <Stack gap="sm">
      <CsrDownload />
      <form onSubmit={onSubmit} aria-label="Import the certificate">
        <Stack gap="xs">
          <Textarea label="Issued certificate (PEM)" autosize minRows={3} maxRows={6} ff="monospace" value={certificatePem} onChange={(e) => setCertificatePem(e.currentTarget.value)} />
          <FileButton onChange={(f) => void read(f, setCertificatePem)} accept=".pem,.crt,.cer">{(props) => <Button {...props} size="xs" variant="default" w="fit-content">Read certificate from file…</Button>}</FileButton>
          <Textarea label="CA certificate or chain (PEM)" autosize minRows={3} maxRows={6} ff="monospace" value={caCertificatePem} onChange={(e) => setCaCertificatePem(e.currentTarget.value)} />
          <FileButton onChange={(f) => void read(f, setCaCertificatePem)} accept=".pem,.crt,.cer">{(props) => <Button {...props} size="xs" variant="default" w="fit-content">Read CA certificate from file…</Button>}</FileButton>
          <Group>
            <Button type="submit" disabled={certificatePem.trim() === '' || caCertificatePem.trim() === '' || s.working !== null}>Verify and import</Button>
            <Button variant="subtle" onClick={() => s.setSkipCertificate(true)}>Seal now; import the certificate later</Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  )
}

function SealStep({ view }: { view: CeremonyTranscriptView }) {
  const s = useCeremonyStore()
  return (
    <Stack gap="sm">
      {s.skipCertificate && view.ceremony.progress.certificate === null
        ? <Alert color="gray">The certificate will be imported later, outside this ceremony. <Button size="compact-xs" variant="subtle" onClick={() => s.setSkipCertificate(false)}>Import it now instead</Button></Alert>
        : null}
      <CsrDownload />
      <ControlledForm view={view} label="Seal the transcript" action="Seal the transcript" ready onRun={(c) => s.seal(c)} />
    </Stack>
  )
}

function DoneStep({ view }: { view: CeremonyTranscriptView }) {
  const s = useCeremonyStore()
  return (
    <Stack gap="sm">
      <Text size="sm">
        The transcript is sealed with the key at <Text span fw={600}>{view.seal?.keyLocation}</Text>. Download the report, print it, and have everyone
        check the seal key fingerprint below against the printout, then sign.
      </Text>
      <Produced view={view} />
      <Code block data-testid="seal-fingerprint">{(view.seal?.publicKeyFingerprint ?? '').replace(/(.{4})/g, '$1 ').trim()}</Code>
      <Group>
        <Button onClick={() => void s.downloadReport()}>Download report (HTML)</Button>
        <Button variant="default" onClick={() => s.downloadTranscript()}>Download transcript (JSON)</Button>
      </Group>
      <Text size="xs" c="dimmed">An auditor checks the transcript later on any machine with <Code>gatehouse ceremony verify FILE</Code>.</Text>
    </Stack>
  )
}

/** What the ceremony produced, with the fingerprints the participants compare against the printed report. */
function Produced({ view }: { view: CeremonyTranscriptView }) {
  const { key, csr, certificate, token } = view.ceremony.progress
  const rows: Array<[string, ReactNode]> = []
  if (token) rows.push(['Token', `${token.label}, serial ${token.serialNumber}`])
  if (key) rows.push(['Key', <>{key.label} ({key.algorithm}, {key.usage === 'sign' ? 'signing' : 'authentication'}) · public key SHA-256 <Code>{key.publicKeySha256.slice(0, 16)}…</Code></>])
  if (csr) rows.push(['Certificate request', <>{csr.fileName} · SHA-256 <Code>{csr.sha256.slice(0, 16)}…</Code></>])
  rows.push(['Certificate', certificate ? `${certificate.subject}, serial ${certificate.serialNumber}, issued by ${certificate.issuer}` : 'Not imported in this ceremony'])
  return (
    <Table aria-label="What this ceremony produced" withTableBorder>
      <Table.Tbody>
        {rows.map(([what, value]) => (
          <Table.Tr key={what}><Table.Th w={170}>{what}</Table.Th><Table.Td><Text size="sm" style={{ overflowWrap: 'anywhere' }}>{value}</Text></Table.Td></Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  )
}

function VerdictBadge({ view }: { view: CeremonyTranscriptView }) {
  const v = view.verification
  if (v.valid) return <Badge color="green" size="lg" data-testid="transcript-verdict">Verified</Badge>
  if (!v.sealed && v.problems.length === 1) return <Badge color="yellow" size="lg" data-testid="transcript-verdict">Not verified: not sealed yet</Badge>
  return <Badge color="red" size="lg" data-testid="transcript-verdict">Not verified</Badge>
}

function TranscriptCard({ view }: { view: CeremonyTranscriptView }) {
  const s = useCeremonyStore()
  const v = view.verification
  const broken = v.problems.filter((p) => p !== 'the transcript is not sealed')
  return (
    <Card withBorder radius="md" component="section" aria-labelledby="transcript-title">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={4} id="transcript-title">Transcript</Title>
          <VerdictBadge view={view} />
        </Group>
        {broken.length > 0 ? (
          <Alert color="red" title="The transcript does not verify">
            <List size="sm">{broken.map((p) => <List.Item key={p}>{p}</List.Item>)}</List>
          </Alert>
        ) : (
          <Text size="xs" c="dimmed">{v.valid ? 'Every entry is chained to the one before it and the seal signature is valid.' : 'Each entry is chained to the one before it; the seal at the end makes it verifiable.'}</Text>
        )}
        {view.entries.length === 0 ? <Text size="sm" c="dimmed">No step recorded yet.</Text> : (
          <Timeline active={view.entries.length + (view.seal ? 1 : 0)} bulletSize={22} lineWidth={2} role="region" aria-label="Recorded steps">
            {view.entries.map((e) => (
              <Timeline.Item
                key={e.seq}
                color={OUTCOME_COLORS[e.outcome]}
                bullet={<Text size="xs" fw={700} c="white">{e.seq}</Text>}
                title={(
                  <Group gap={6} wrap="nowrap" align="flex-start" justify="space-between">
                    <Text size="sm" fw={600}>{e.title}</Text>
                    {e.outcome === 'done' ? null : <Badge size="sm" color={OUTCOME_COLORS[e.outcome]} style={{ flexShrink: 0 }}>{OUTCOME_WORDS[e.outcome]}</Badge>}
                  </Group>
                )}
              >
                <Text size="xs" c="dimmed">
                  {new Date(e.at).toLocaleTimeString()} · {nameOf(view, e.actor)}
                  {e.confirmedBy.length > 0 ? ` · confirmed by ${e.confirmedBy.map((c) => nameOf(view, c.participant)).join(' and ')}` : ''}
                </Text>
                {e.outcome !== 'done' && typeof e.details.reason === 'string' ? <Text size="xs" c={e.outcome === 'refused' ? 'red.8' : 'yellow.9'}>{e.details.reason}</Text> : null}
                {e.artifacts.map((a) => (
                  <Text key={`${a.name}-${a.sha256}`} size="xs" ff="monospace" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{a.name} · SHA-256 {a.sha256.slice(0, 16)}…</Text>
                ))}
              </Timeline.Item>
            ))}
            {view.seal ? (
              <Timeline.Item color="indigo" bullet={<Text size="xs" fw={700} c="white">✓</Text>} title={<Text size="sm" fw={600}>Transcript sealed</Text>}>
                <Text size="xs" c="dimmed">{new Date(view.seal.sealedAt).toLocaleTimeString()} · {view.seal.algorithm} · seal key SHA-256 {view.seal.publicKeyFingerprint.slice(0, 16)}…</Text>
              </Timeline.Item>
            ) : null}
          </Timeline>
        )}
        <Group gap="xs">
          <Button size="xs" variant="light" onClick={() => void s.downloadReport()} disabled={view.entries.length === 0}>Download report</Button>
          <Button size="xs" variant="default" onClick={() => s.downloadTranscript()}>Download transcript</Button>
        </Group>
      </Stack>
    </Card>
  )
}
