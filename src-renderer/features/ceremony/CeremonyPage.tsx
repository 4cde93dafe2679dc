import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import {
  Alert, Badge, Button, Card, Code, FileButton, Grid, Group, List, Loader, NativeSelect, PasswordInput, SegmentedControl, Stack, Table,
  Text, TextInput, Textarea, Timeline, Title, VisuallyHidden,
} from '@mantine/core'
import type { CeremonyConfirmationInput, CeremonyKeyAlgorithm, CeremonyParticipantInfo, CeremonyRoleName, CeremonyTranscriptView } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { AdminError } from '../../lib/admin-client'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { readFileForUpload } from '../../lib/save-file'
import { formatTime } from '../../lib/format-time'
import {
  CONFIRMING_ROLES, ROLES, WIZARD_STEPS, confirmationProblem, participantsProblem, roleName, stepInfo, useCeremonyStore, wizardStep, type WizardStep,
} from './ceremony-store'
import { entryTitle, findingText, namesList, reasonText, refusalText, sealKeyText, workingText } from './ceremony-texts'

const OUTCOME_COLORS = { done: 'green', warning: 'yellow', refused: 'red' } as const
const DEFAULT_MODULE = '/usr/lib/softhsm/libsofthsm2.so'
const MIN_PASSPHRASE_LENGTH = 8
/** Names that stay as they are in every language: the hash algorithm and the auditor's command. */
const SHA256 = 'SHA-256'
const VERIFY_COMMAND = 'gatehouse ceremony verify FILE'
/** Badges keep their whole text in every language (never "REFU…"). */
const BADGE_STYLES = { root: { flexShrink: 0, maxWidth: 'none' }, label: { overflow: 'visible', textOverflow: 'clip' } } as const
/** The verdict is a sentence: it wraps inside its card instead of running past it. */
const VERDICT_STYLES = {
  root: { maxWidth: '100%', height: 'auto', minHeight: 'var(--badge-height)', paddingBlock: 4 },
  label: { overflow: 'visible', textOverflow: 'clip', whiteSpace: 'normal', textAlign: 'center' },
} as const

/**
 * Key ceremonies: the list, then the wizard for one ceremony beside its transcript. Times of the transcript are
 * evidence and shown in UTC, as the transcript and the printed report show them.
 */
export function CeremonyPage() {
  const t = useT('ceremony')
  const { view, load } = useCeremonyStore()
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>{t('screen.title')}</Title>
        <Text c="dimmed" size="sm">{t('screen.intro')}</Text>
      </div>
      {view === null ? <CeremonyList /> : <Wizard view={view} />}
    </Stack>
  )
}

function CeremonyList() {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  const [title, setTitle] = useState('')
  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    if (title.trim() !== '') void s.create(title.trim())
  }
  return (
    <>
      {s.error ? <ErrorNotice error={s.error} /> : null}
      <Card withBorder radius="md" component="form" onSubmit={onSubmit} aria-label={t('list.formLabel')}>
        <Stack gap="xs">
          <Title order={4}>{t('list.heading')}</Title>
          <Text size="sm" c="dimmed">{t('list.hint')}</Text>
          <Group align="flex-end">
            <TextInput label={t('list.titleLabel')} placeholder={t('list.titlePlaceholder')} value={title} onChange={(e) => setTitle(e.currentTarget.value)} w={420} maw="100%" />
            <Button type="submit" disabled={title.trim() === ''} loading={s.working !== null}>{t('list.start')}</Button>
          </Group>
        </Stack>
      </Card>
      <Card withBorder radius="md" padding={0}>
        <Table.ScrollContainer minWidth={620}>
          <Table aria-label={t('list.tableLabel')} striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('list.ceremony')}</Table.Th><Table.Th>{t('list.started')}</Table.Th><Table.Th>{t('list.people')}</Table.Th>
                <Table.Th>{t('list.steps')}</Table.Th><Table.Th>{t('list.state')}</Table.Th><Table.Th><VisuallyHidden>{t('list.actions')}</VisuallyHidden></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {s.ceremonies.length === 0 ? (
                <Table.Tr><Table.Td colSpan={6}><Text size="sm" c="dimmed" ta="center" py="md">{s.loading ? t('list.loading') : t('list.empty')}</Text></Table.Td></Table.Tr>
              ) : (
                s.ceremonies.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td><Text size="sm" fw={500}>{c.title}</Text></Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}><Text size="sm">{formatTime(c.startedAt)}</Text></Table.Td>
                    <Table.Td>{c.participants.length}</Table.Td>
                    <Table.Td>{c.refusals > 0 ? t('list.stepsRefused', { steps: c.steps, count: c.refusals }) : c.steps}</Table.Td>
                    <Table.Td>
                      {c.progress.sealed
                        ? <Badge color="green" styles={BADGE_STYLES}>{t('list.sealed')}</Badge>
                        : <Badge color="blue" variant="light" styles={BADGE_STYLES}>{t('list.inProgress')}</Badge>}
                    </Table.Td>
                    <Table.Td><Button size="xs" variant="light" onClick={() => void s.open(c.id)} aria-label={t('list.openLabel', { title: c.title })}>{t('list.open')}</Button></Table.Td>
                  </Table.Tr>
                ))
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
    </>
  )
}

function Wizard({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  const step = wizardStep(view, s.skipCertificate)
  const active = WIZARD_STEPS.indexOf(step)
  const info = stepInfo(step)
  return (
    <>
      <Group justify="space-between" wrap="wrap">
        <div>
          <Title order={3}>{view.ceremony.title}</Title>
          <Text size="xs" c="dimmed">{t('wizard.subtitle', { id: view.ceremony.id, time: formatTime(view.ceremony.startedAt) })}</Text>
        </div>
        <Button variant="default" onClick={() => s.close()}>{t('wizard.all')}</Button>
      </Group>
      <StepTrail active={active} />
      {s.error ? <ErrorNotice error={s.error} /> : null}
      <Grid gap="lg">
        {/* Side by side only where both have room (the transcript below the step at 1 024 px). */}
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <Card withBorder radius="md" component="section" aria-labelledby="ceremony-step-title">
            <Stack gap="sm">
              <Group justify="space-between" align="flex-start" wrap="nowrap">
                <Title order={4} id="ceremony-step-title">
                  {step === 'done' ? info.title : t('wizard.stepHeading', { n: active + 1, total: WIZARD_STEPS.length - 1, title: info.title })}
                </Title>
                {info.dualControl ? <Badge color="grape" variant="light" styles={BADGE_STYLES}>{t('wizard.dualBadge')}</Badge> : null}
              </Group>
              <Text size="sm"><Text span fw={600}>{t('wizard.present')} </Text>{info.present}</Text>
              <Text size="sm"><Text span fw={600}>{t('wizard.records')} </Text>{info.records}</Text>
              {s.working ? <Alert color="blue" icon={<Loader size="sm" />} role="status" aria-live="polite">{workingText(s.working)}</Alert> : null}
              <Refusal view={view} />
              <StepPanel step={step} view={view} />
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <TranscriptCard view={view} />
        </Grid.Col>
      </Grid>
    </>
  )
}

/** The steps in order as a list (not buttons: the order is fixed), the current one marked for screen readers. */
function StepTrail({ active }: { active: number }) {
  const t = useT('ceremony')
  return (
    <Group component="ol" gap={6} aria-label={t('wizard.trailLabel')} style={{ listStyle: 'none', padding: 0, margin: 0 }}>
      {WIZARD_STEPS.slice(0, -1).map((name, i) => (
        <li key={name} aria-current={i === active ? 'step' : undefined}>
          <Badge
            size="lg"
            radius="sm"
            variant={i === active ? 'filled' : i < active ? 'light' : 'outline'}
            color={i < active ? 'green' : i === active ? 'indigo' : 'gray'}
            styles={BADGE_STYLES}
          >
            {i < active ? '✓ ' : `${i + 1}. `}{stepInfo(name).label}
          </Badge>
        </li>
      ))}
    </Group>
  )
}

/** A refused step in plain words, and whether the transcript recorded it. */
function Refusal({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony', 'common')
  const { refusal, dismissRefusal } = useCeremonyStore()
  if (refusal === null || refusal === undefined) return null
  const message = refusal instanceof Error ? refusal.message : String(refusal)
  const code = refusal instanceof AdminError ? refusal.code : 'internal_error'
  const last = view.entries.at(-1)
  const recorded = last !== undefined && last.outcome === 'refused' && last.reason?.text === message ? last : undefined
  const dual = code.endsWith('ceremony_step_refused')
  return (
    <Alert
      color="red"
      role="alert"
      title={dual ? t('refusal.refused') : t('refusal.failed')}
      withCloseButton
      onClose={dismissRefusal}
      closeButtonLabel={t('common:actions.dismiss')}
    >
      <Text size="sm">{recorded?.reason ? reasonText(recorded.reason) : refusalText(refusal)}</Text>
      <Text size="xs" mt={4}>
        {recorded ? t('refusal.recorded', { seq: recorded.seq }) : t('refusal.retry')}
        {' '}{t('common:error.codeForSupport')} <Code>{code}</Code>
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
  const t = useT('ceremony')
  const s = useCeremonyStore()
  const [name, setName] = useState('')
  const [role, setRole] = useState<CeremonyRoleName>(view.ceremony.participants.some((p) => p.role === 'administrator') ? 'custodian' : 'administrator')
  const [passphrase, setPassphrase] = useState('')
  const [repeat, setRepeat] = useState('')
  const mismatch = repeat !== '' && passphrase !== repeat
  const short = passphrase !== '' && passphrase.length < MIN_PASSPHRASE_LENGTH
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
      <Card withBorder radius="sm" component="form" onSubmit={(e) => void onSubmit(e)} aria-label={t('participants.formLabel')}>
        <Stack gap="xs">
          <Text size="sm" fw={600}>{t('participants.formLabel')}</Text>
          <Text size="xs" c="dimmed">{t('participants.hint')}</Text>
          <Group grow align="flex-start">
            <TextInput label={t('participants.fullName')} value={name} onChange={(e) => setName(e.currentTarget.value)} />
            <NativeSelect
              label={t('participants.role')}
              value={role}
              onChange={(e) => setRole(e.currentTarget.value as CeremonyRoleName)}
              data={ROLES.map((r) => ({ value: r, label: roleName(r) }))}
            />
          </Group>
          <Group grow align="flex-start">
            <PasswordInput
              label={t('participants.passphrase')}
              autoComplete="new-password"
              value={passphrase}
              onChange={(e) => setPassphrase(e.currentTarget.value)}
              error={short ? t('participants.tooShort', { min: MIN_PASSPHRASE_LENGTH }) : null}
            />
            <PasswordInput
              label={t('participants.repeat')}
              autoComplete="new-password"
              value={repeat}
              onChange={(e) => setRepeat(e.currentTarget.value)}
              error={mismatch ? t('participants.differ') : null}
            />
          </Group>
          <Group>
            <Button type="submit" variant="light" disabled={name.trim() === '' || passphrase.length < MIN_PASSPHRASE_LENGTH || passphrase !== repeat || s.working !== null}>
              {t('participants.add')}
            </Button>
          </Group>
        </Stack>
      </Card>
      {problem ? <Text size="sm" c="dimmed">{problem}</Text> : <Text size="sm">{t('participants.fixedHint')}</Text>}
      <Group>
        <Button onClick={() => void s.checkOffline()} disabled={problem !== null || s.working !== null} style={{ maxWidth: '100%' }} styles={{ label: { whiteSpace: 'normal' } }} h="auto" py={6}>
          {t('participants.complete')}
        </Button>
      </Group>
    </Stack>
  )
}

function ParticipantsTable({ participants }: { participants: readonly CeremonyParticipantInfo[] }) {
  const t = useT('ceremony')
  if (participants.length === 0) return <Text size="sm" c="dimmed">{t('participants.nobody')}</Text>
  return (
    <Table aria-label={t('participants.tableLabel')} withTableBorder>
      <Table.Thead><Table.Tr><Table.Th>{t('participants.name')}</Table.Th><Table.Th>{t('participants.role')}</Table.Th><Table.Th>{t('participants.confirms')}</Table.Th></Table.Tr></Table.Thead>
      <Table.Tbody>
        {participants.map((p) => (
          <Table.Tr key={p.id}>
            <Table.Td>{p.name}</Table.Td><Table.Td>{roleName(p.role)}</Table.Td>
            <Table.Td>{CONFIRMING_ROLES.includes(p.role) ? t('participants.yes') : t('participants.observes')}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  )
}

function OfflineStep() {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  return (
    <Group>
      <Button onClick={() => void s.checkOffline()} disabled={s.working !== null}>{t('offline.check')}</Button>
    </Group>
  )
}

function OfflineResult() {
  const t = useT('ceremony')
  const offline = useCeremonyStore((s) => s.offline)
  if (offline === null) return null
  return offline.offline
    ? <Alert color="green" title={t('offline.okTitle')}>{t('offline.okText')}</Alert>
    : (
        <Alert color="yellow" title={t('offline.warnTitle')} role="status">
          <Text size="sm">{t('offline.warnText', { interfaces: offline.interfacesUp.join(', ') })}</Text>
        </Alert>
      )
}

function TokenStep() {
  const t = useT('ceremony')
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
      <form onSubmit={onSubmit} aria-label={t('token.formLabel')}>
        <Stack gap="xs">
          <TextInput label={t('token.module')} description={t('token.moduleHint')} value={modulePath} onChange={(e) => setModulePath(e.currentTarget.value)} />
          <TextInput label={t('token.label')} description={t('token.labelHint')} value={tokenLabel} onChange={(e) => setTokenLabel(e.currentTarget.value)} />
          <Group><Button type="submit" disabled={modulePath.trim() === '' || tokenLabel.trim() === '' || s.working !== null}>{t('token.identify')}</Button></Group>
        </Stack>
      </form>
    </Stack>
  )
}

function TokenDetails() {
  const t = useT('ceremony')
  const token = useCeremonyStore((s) => s.token)
  if (token === null) return null
  return (
    <Alert color="gray" title={t('token.detailsTitle', { label: token.label })}>
      <Text size="sm">
        {t('token.details', {
          manufacturer: token.manufacturer, model: token.model, serial: token.serialNumber, hardware: token.hardwareVersion, firmware: token.firmwareVersion,
        })}
      </Text>
      <Text size="xs" c="dimmed">{t('token.mechanisms', { count: token.mechanisms.length })}</Text>
    </Alert>
  )
}

function LoginStep({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
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
      {again ? <Text size="sm">{t('login.again')}</Text> : null}
      <form onSubmit={(e) => void onSubmit(e)} aria-label={t('login.formLabel')}>
        <Stack gap="xs">
          <PasswordInput label={t('login.pin', { token: token?.label ?? '' }).trim()} autoComplete="off" value={pin} onChange={(e) => setPin(e.currentTarget.value)} />
          <Group><Button type="submit" disabled={pin === '' || s.working !== null}>{t('login.submit')}</Button></Group>
        </Stack>
      </form>
    </Stack>
  )
}

const EMPTY_CONFIRMATIONS: CeremonyConfirmationInput[] = [{ participant: '', passphrase: '' }, { participant: '', passphrase: '' }]

/** Two people choose themselves and type their own passphrases (masked). */
function DualControl({ view, value, onChange }: { view: CeremonyTranscriptView; value: CeremonyConfirmationInput[]; onChange(next: CeremonyConfirmationInput[]): void }) {
  const t = useT('ceremony')
  const people = view.ceremony.participants
  const options = [{ value: '', label: t('dual.choose') }, ...people.map((p) => ({ value: p.id, label: t('dual.option', { name: p.name, role: roleName(p.role, true) }) }))]
  const labels = [
    { person: t('dual.firstPerson'), passphrase: t('dual.firstPassphrase') },
    { person: t('dual.secondPerson'), passphrase: t('dual.secondPassphrase') },
  ]
  return (
    <Card withBorder radius="sm" bg="grape.0" component="fieldset" aria-label={t('dual.label')}>
      <Stack gap="xs">
        <Text size="sm" fw={600}>{t('dual.heading')}</Text>
        {value.map((c, i) => (
          <Group grow key={labels[i]?.person ?? i} align="flex-start">
            <NativeSelect
              label={labels[i]?.person}
              value={c.participant}
              data={options}
              onChange={(e) => onChange(value.map((x, j) => (j === i ? { ...x, participant: e.currentTarget.value } : x)))}
            />
            <PasswordInput
              label={labels[i]?.passphrase}
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
  const t = useT('ceremony')
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
          {problem !== null && ready ? <Text size="xs" c="dimmed">{t('dual.pressNow')}</Text> : null}
        </Group>
      </Stack>
    </form>
  )
}

function KeyStep({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  const [label, setLabel] = useState('sign-1')
  const [algorithm, setAlgorithm] = useState<CeremonyKeyAlgorithm>('ec-p256')
  return (
    <ControlledForm
      view={view}
      label={t('steps.key.title')}
      action={t('key.action')}
      ready={/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(label)}
      onRun={(c) => s.generateKey({ label, algorithm }, c)}
    >
      <Group grow align="flex-start">
        <TextInput label={t('key.label')} description={t('key.labelHint')} value={label} onChange={(e) => setLabel(e.currentTarget.value)} />
        <NativeSelect
          label={t('key.algorithm')}
          description={t('key.algorithmHint')}
          value={algorithm}
          onChange={(e) => setAlgorithm(e.currentTarget.value as CeremonyKeyAlgorithm)}
          data={[{ value: 'ec-p256', label: 'ECDSA P-256' }, { value: 'rsa-2048', label: 'RSA 2048' }, { value: 'rsa-3072', label: 'RSA 3072' }, { value: 'rsa-4096', label: 'RSA 4096' }]}
        />
      </Group>
    </ControlledForm>
  )
}

function CsrStep({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  const [member, setMember] = useState('')
  const [format, setFormat] = useState<'pem' | 'der'>('pem')
  const key = view.ceremony.progress.key
  const auth = key?.usage === 'auth'
  return (
    <ControlledForm
      view={view}
      label={t('steps.csr.title')}
      action={t('csr.action')}
      ready={member.trim() !== ''}
      onRun={(c) => s.createCsr({ member: member.trim(), format }, c)}
    >
      {key ? (
        <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
          {t('csr.key')} <Code>{key.label}</Code> ({key.algorithm}), {t('csr.publicKey')} <Code>{key.publicKeySha256.slice(0, 16)}…</Code>
        </Text>
      ) : null}
      <Group grow align="flex-start">
        <TextInput
          label={auth ? t('csr.server') : t('csr.member')}
          placeholder={auth ? 'LAB:GOV:1234:ss1' : 'LAB:GOV:1234'}
          description={auth ? t('csr.serverHint') : t('csr.memberHint')}
          value={member}
          onChange={(e) => setMember(e.currentTarget.value)}
        />
        <div>
          <Text size="sm" fw={500} id="csr-format-label">{t('csr.format')}</Text>
          <SegmentedControl aria-labelledby="csr-format-label" value={format} onChange={(v) => setFormat(v as 'pem' | 'der')} data={[{ value: 'pem', label: 'PEM' }, { value: 'der', label: 'DER' }]} />
        </div>
      </Group>
    </ControlledForm>
  )
}

function CsrDownload() {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  const csr = s.csr
  if (csr === null) return null
  return (
    <Card withBorder radius="sm">
      <Group align="flex-start" wrap="nowrap">
        <Stack gap={4} style={{ flex: 1, minWidth: 0 }}>
          <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>{t('csr.ready', { file: csr.fileName })}</Text>
          <Text size="xs" style={{ overflowWrap: 'anywhere' }}>{SHA256} <Code>{csr.sha256}</Code></Text>
          <Text size="xs" c="dimmed">{csr.qrPng ? `${t('csr.saveHint')} ${t('csr.qrHint')}` : t('csr.saveHint')}</Text>
          <Group><Button size="xs" onClick={() => s.saveCsr()}>{csr.qrPng ? t('csr.saveWithQr') : t('csr.save')}</Button></Group>
        </Stack>
        {csr.qrPng ? <img src={`data:image/png;base64,${csr.qrPng.content}`} alt={t('csr.qrAlt')} width={120} height={120} /> : null}
      </Group>
    </Card>
  )
}

function CertificateStep() {
  const t = useT('ceremony')
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
      <form onSubmit={onSubmit} aria-label={t('certificate.formLabel')}>
        <Stack gap="xs">
          <Textarea label={t('certificate.issued')} autosize minRows={3} maxRows={6} ff="monospace" value={certificatePem} onChange={(e) => setCertificatePem(e.currentTarget.value)} />
          <FileButton onChange={(f) => void read(f, setCertificatePem)} accept=".pem,.crt,.cer">
            {(props) => <Button {...props} size="xs" variant="default" w="fit-content">{t('certificate.readIssued')}</Button>}
          </FileButton>
          <Textarea label={t('certificate.ca')} autosize minRows={3} maxRows={6} ff="monospace" value={caCertificatePem} onChange={(e) => setCaCertificatePem(e.currentTarget.value)} />
          <FileButton onChange={(f) => void read(f, setCaCertificatePem)} accept=".pem,.crt,.cer">
            {(props) => <Button {...props} size="xs" variant="default" w="fit-content">{t('certificate.readCa')}</Button>}
          </FileButton>
          <Group>
            <Button type="submit" disabled={certificatePem.trim() === '' || caCertificatePem.trim() === '' || s.working !== null}>{t('certificate.import')}</Button>
            <Button variant="subtle" onClick={() => s.setSkipCertificate(true)}>{t('certificate.later')}</Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  )
}

function SealStep({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  return (
    <Stack gap="sm">
      {s.skipCertificate && view.ceremony.progress.certificate === null
        ? (
            <Alert color="gray">
              {t('seal.later')} <Button size="compact-xs" variant="subtle" onClick={() => s.setSkipCertificate(false)}>{t('seal.importNow')}</Button>
            </Alert>
          )
        : null}
      <CsrDownload />
      <ControlledForm view={view} label={t('steps.seal.title')} action={t('seal.action')} ready onRun={(c) => s.seal(c)} />
    </Stack>
  )
}

function DoneStep({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  return (
    <Stack gap="sm">
      <Text size="sm">{t('done.sealed')}</Text>
      <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{t('done.keyAt')} <Text span fw={600}>{view.seal ? sealKeyText(view.seal) : ''}</Text></Text>
      <Produced view={view} />
      <Code block data-testid="seal-fingerprint">{(view.seal?.publicKeyFingerprint ?? '').replace(/(.{4})/g, '$1 ').trim()}</Code>
      <Group>
        <Button onClick={() => void s.downloadReport()}>{t('done.downloadReport')}</Button>
        <Button variant="default" onClick={() => s.downloadTranscript()}>{t('done.downloadTranscript')}</Button>
      </Group>
      <Text size="xs" c="dimmed">{t('done.verifyHint')} <Code>{VERIFY_COMMAND}</Code></Text>
    </Stack>
  )
}

/** What the ceremony produced, with the fingerprints the participants compare against the printed report. */
function Produced({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
  const { key, csr, certificate, token } = view.ceremony.progress
  const rows: Array<[string, ReactNode]> = []
  if (token) rows.push([t('produced.token'), t('produced.tokenValue', { label: token.label, serial: token.serialNumber })])
  if (key) {
    rows.push([
      t('produced.key'),
      <>{t('produced.keyValue', { label: key.label, algorithm: key.algorithm, usage: t(`produced.usages.${key.usage}`) })} · {t('csr.publicKey')} <Code>{key.publicKeySha256.slice(0, 16)}…</Code></>,
    ])
  }
  if (csr) rows.push([t('produced.csr'), <>{csr.fileName} · {SHA256} <Code>{csr.sha256.slice(0, 16)}…</Code></>])
  rows.push([
    t('produced.certificate'),
    certificate ? t('produced.certificateValue', { subject: certificate.subject, serial: certificate.serialNumber, issuer: certificate.issuer }) : t('produced.notImported'),
  ])
  return (
    <Table aria-label={t('produced.label')} withTableBorder>
      <Table.Tbody>
        {rows.map(([what, value]) => (
          <Table.Tr key={what}><Table.Th w={170}>{what}</Table.Th><Table.Td><Text size="sm" style={{ overflowWrap: 'anywhere' }}>{value}</Text></Table.Td></Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  )
}

function VerdictBadge({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
  const v = view.verification
  if (v.valid) return <Badge color="green" size="lg" styles={VERDICT_STYLES} data-testid="transcript-verdict">{t('verdict.verified')}</Badge>
  if (!v.sealed && v.findings.length === 1) return <Badge color="yellow" size="lg" styles={VERDICT_STYLES} data-testid="transcript-verdict">{t('verdict.notSealed')}</Badge>
  return <Badge color="red" size="lg" styles={VERDICT_STYLES} data-testid="transcript-verdict">{t('verdict.notVerified')}</Badge>
}

function TranscriptCard({ view }: { view: CeremonyTranscriptView }) {
  const t = useT('ceremony')
  const s = useCeremonyStore()
  const v = view.verification
  const broken = v.findings.map((f, i) => ({ ...f, english: v.problems[i] ?? f.code })).filter((f) => f.code !== 'not-sealed')
  return (
    <Card withBorder radius="md" component="section" aria-labelledby="transcript-title">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap">
          <Title order={4} id="transcript-title">{t('transcript.title')}</Title>
          <VerdictBadge view={view} />
        </Group>
        {broken.length > 0 ? (
          <Alert color="red" title={t('transcript.brokenTitle')}>
            <List size="sm">{broken.map((f) => <List.Item key={f.english}>{findingText(f, f.english)}</List.Item>)}</List>
          </Alert>
        ) : (
          <Text size="xs" c="dimmed">{v.valid ? t('transcript.validHint') : t('transcript.chainHint')}</Text>
        )}
        {view.entries.length === 0 ? <Text size="sm" c="dimmed">{t('transcript.empty')}</Text> : (
          <Timeline active={view.entries.length + (view.seal ? 1 : 0)} bulletSize={22} lineWidth={2} role="region" aria-label={t('transcript.timelineLabel')}>
            {view.entries.map((e) => (
              <Timeline.Item
                key={e.seq}
                color={OUTCOME_COLORS[e.outcome]}
                bullet={<Text size="xs" fw={700} c="white">{e.seq}</Text>}
                title={(
                  <Group gap={6} wrap="wrap" align="center">
                    <Text size="sm" fw={600}>{entryTitle(e)}</Text>
                    {e.outcome === 'done' ? null : <Badge size="sm" color={OUTCOME_COLORS[e.outcome]} styles={BADGE_STYLES}>{t(`transcript.outcomes.${e.outcome}`)}</Badge>}
                  </Group>
                )}
              >
                <Text size="xs" c="dimmed">
                  {formatTime(e.at)} · {nameOf(view, e.actor)}
                  {e.confirmedBy.length > 0 ? ` · ${t('transcript.confirmedBy', { names: namesList(e.confirmedBy.map((c) => nameOf(view, c.participant))) })}` : ''}
                </Text>
                {e.reason !== null ? <Text size="xs" c={e.outcome === 'refused' ? 'red.8' : 'yellow.9'}>{reasonText(e.reason)}</Text> : null}
                {e.artifacts.map((a) => (
                  <Text key={`${a.name}-${a.sha256}`} size="xs" ff="monospace" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{a.name} · {SHA256} {a.sha256.slice(0, 16)}…</Text>
                ))}
              </Timeline.Item>
            ))}
            {view.seal ? (
              <Timeline.Item color="indigo" bullet={<Text size="xs" fw={700} c="white">✓</Text>} title={<Text size="sm" fw={600}>{t('transcript.sealedTitle')}</Text>}>
                <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                  {formatTime(view.seal.sealedAt)} · {view.seal.algorithm} · {t('transcript.sealKey')} {view.seal.publicKeyFingerprint.slice(0, 16)}…
                </Text>
              </Timeline.Item>
            ) : null}
          </Timeline>
        )}
        <Group gap="xs">
          <Button size="xs" variant="light" onClick={() => void s.downloadReport()} disabled={view.entries.length === 0}>{t('transcript.downloadReport')}</Button>
          <Button size="xs" variant="default" onClick={() => s.downloadTranscript()}>{t('transcript.downloadTranscript')}</Button>
        </Group>
      </Stack>
    </Card>
  )
}
