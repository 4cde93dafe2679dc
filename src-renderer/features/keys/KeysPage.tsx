import { useEffect, useRef, useState, type FormEvent } from 'react'
import {
  Alert, Badge, Button, Card, FileButton, Group, Loader, Modal, PasswordInput, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Textarea, Title,
} from '@mantine/core'
import {
  KEY_ALGORITHM_VALUES, SOFTWARE_TOKEN_PIN_POLICY, type KeyAlgorithmValue, type KeyDto, type KeyUsageValue, type TokenDto, type TokenState,
} from '@shared/admin-api/admin-api'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { readFileForUpload, saveFile } from '../../lib/save-file'
import { expiryText, newPinProblem, useKeysStore } from './keys-store'

const TOKEN_STATE: Record<TokenState, { color: string; text: string }> = {
  'logged-in': { color: 'green', text: 'Logged in' },
  'logged-out': { color: 'yellow', text: 'Logged out' },
  locked: { color: 'red', text: 'Locked' },
  'not-available': { color: 'red', text: 'Not available' },
  'not-initialized': { color: 'gray', text: 'Not initialized' },
}
const CERT_COLORS: Record<string, string> = { active: 'green', saved: 'blue', registered: 'blue', disabled: 'gray', revoked: 'red', expired: 'red' }
const OCSP_COLORS: Record<string, string> = { good: 'green', revoked: 'red', unknown: 'orange', stale: 'yellow', none: 'gray' }

/** Keys and certificates: tokens with state and PIN login, key generation, the CSR wizard, certificate import and activation. */
export function KeysPage() {
  const s = useKeysStore()
  const [loginToken, setLoginToken] = useState<TokenDto | null>(null)
  const [pinToken, setPinToken] = useState<TokenDto | null>(null)
  const [addingToken, setAddingToken] = useState(false)
  const [csrKey, setCsrKey] = useState<KeyDto | null>(null)
  const load = s.load
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Keys and certificates</Title>
        <Text c="dimmed" size="sm">Tokens hold the private keys. Log in with the PIN so the server can sign; then request, import and activate certificates.</Text>
      </div>
      {s.error ? <ErrorNotice error={s.error} onClose={s.clearError} /> : null}
      {s.working ? (
        <Alert color="blue" icon={<Loader size="sm" />} role="status" aria-live="polite">{s.working}</Alert>
      ) : null}
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <Title order={4}>Tokens</Title>
          <Button size="xs" variant="default" onClick={() => setAddingToken(true)}>Add a PKCS#11 token…</Button>
        </Group>
        {s.tokens.length === 0 ? <Text size="sm" c="dimmed">No token yet: the first-run wizard creates the software token.</Text> : (
          <Table aria-label="Tokens">
            <Table.Thead><Table.Tr><Table.Th>Token</Table.Th><Table.Th>Type</Table.Th><Table.Th>State</Table.Th><Table.Th>Keys</Table.Th><Table.Th><span className="sr-only">Actions</span></Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {s.tokens.map((t) => (
                <Table.Tr key={t.id}>
                  <Table.Td>{t.label || (t.kind === 'software' ? 'Software token' : t.id)}</Table.Td>
                  <Table.Td>{t.kind === 'software' ? 'Software' : `PKCS#11 ${t.manufacturer ?? ''} ${t.model ?? ''}`}</Table.Td>
                  <Table.Td>
                    <Badge color={TOKEN_STATE[t.state].color} variant="light">{TOKEN_STATE[t.state].text}</Badge>
                    {t.pinFinalTry ? <Text size="xs" c="red">One PIN attempt left before it locks</Text> : t.pinCountLow ? <Text size="xs" c="orange">Wrong PINs were entered</Text> : null}
                  </Table.Td>
                  <Table.Td>{t.keyCount}</Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      {t.loggedIn
                        ? <Button size="xs" variant="default" onClick={() => void s.logout(t.id)}>Log out</Button>
                        : <Button size="xs" disabled={t.state === 'locked' || !t.available} onClick={() => setLoginToken(t)} aria-label={`Log in to token ${t.label || t.id}`}>Log in…</Button>}
                      <Button size="xs" variant="subtle" disabled={t.state === 'locked' || !t.available} onClick={() => setPinToken(t)} aria-label={`Change the PIN of token ${t.label || t.id}`}>Change PIN…</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <GenerateKeyCard />
        <ImportCertificateCard />
      </SimpleGrid>
      <Card withBorder>
        <Title order={4} mb="sm">Keys</Title>
        {s.keys.length === 0 ? <Text size="sm" c="dimmed">No keys yet. Generate a signing key (for messages) and an authentication key (for the connection to other servers).</Text> : (
          <Table aria-label="Keys">
            <Table.Thead><Table.Tr><Table.Th>Label</Table.Th><Table.Th>Usage</Table.Th><Table.Th>Algorithm</Table.Th><Table.Th>Certificates</Table.Th><Table.Th>Created</Table.Th><Table.Th><span className="sr-only">Actions</span></Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {s.keys.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td>{k.label}</Table.Td>
                  <Table.Td><Badge variant="outline">{k.usage === 'sign' ? 'Signing' : 'Authentication'}</Badge></Table.Td>
                  <Table.Td>{k.algorithm.toUpperCase()}</Table.Td>
                  <Table.Td>{k.certificateCount}</Table.Td>
                  <Table.Td>{new Date(k.createdAt).toLocaleString()}</Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Button size="xs" variant="light" onClick={() => setCsrKey(k)} aria-label={`Request a certificate for key ${k.label}`}>Request certificate…</Button>
                      <Button size="xs" variant="subtle" color="red" onClick={() => void s.deleteKey(k.id)} aria-label={`Delete key ${k.label}`}>Delete</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <Card withBorder>
        <Title order={4} mb="sm">Certificates</Title>
        {s.certificates.length === 0 ? <Text size="sm" c="dimmed">No certificates yet. Import the certificate your CA issued for one of the keys above.</Text> : (
          <Table aria-label="Certificates">
            <Table.Thead><Table.Tr><Table.Th>Subject</Table.Th><Table.Th>Usage</Table.Th><Table.Th>State</Table.Th><Table.Th>OCSP</Table.Th><Table.Th>Expiry</Table.Th><Table.Th><span className="sr-only">Actions</span></Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {s.certificates.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td><Text size="sm">{c.subject}</Text><Text size="xs" c="dimmed">Issued by {c.issuer}</Text></Table.Td>
                  <Table.Td>{c.usage === 'auth' ? 'Authentication' : c.usage === 'sign' ? 'Signing' : '–'}</Table.Td>
                  <Table.Td><Badge color={CERT_COLORS[c.state] ?? 'gray'} variant="light">{c.state}</Badge></Table.Td>
                  <Table.Td>
                    <Badge color={OCSP_COLORS[c.ocsp.status] ?? 'gray'} variant="light">{c.ocsp.status === 'none' ? 'not checked yet' : c.ocsp.status}</Badge>
                    {c.ocsp.lastError ? <Text size="xs" c="red">{c.ocsp.lastError}</Text> : null}
                  </Table.Td>
                  <Table.Td><Text size="sm" c={c.daysLeft < 7 ? 'red' : c.daysLeft < 30 ? 'orange' : undefined}>{expiryText(c.daysLeft)}</Text><Text size="xs" c="dimmed">{new Date(c.notAfter).toLocaleDateString()}</Text></Table.Td>
                  <Table.Td>
                    {c.state === 'active'
                      ? <Button size="xs" variant="default" onClick={() => void s.setCertificateActive(c.id, false)}>Disable</Button>
                      : c.state === 'saved' || c.state === 'disabled' || c.state === 'registered'
                        ? <Button size="xs" onClick={() => void s.setCertificateActive(c.id, true)} aria-label={`Activate certificate ${c.subject}`}>Activate</Button>
                        : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <PinDialog token={loginToken} onClose={() => setLoginToken(null)} />
      <ChangePinDialog token={pinToken} onClose={() => setPinToken(null)} />
      <AddPkcs11Dialog opened={addingToken} onClose={() => setAddingToken(false)} />
      <CsrWizard keyDto={csrKey} onClose={() => setCsrKey(null)} />
    </Stack>
  )
}

function PinDialog({ token, onClose }: { token: TokenDto | null; onClose: () => void }) {
  const { login, loading } = useKeysStore()
  const [pin, setPin] = useState('')
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (token === null) return
    void login(token.id, pin).then((ok) => {
      setPin('')
      if (ok) onClose()
    })
  }
  return (
    <Modal opened={token !== null} onClose={onClose} title={`Log in to ${token?.label || 'the token'}`}>
      <Stack component="form" onSubmit={submit} gap="sm" aria-label="Token login">
        <Text size="sm">Type the token PIN. It goes straight to the token and is never stored or logged.</Text>
        {token?.pinFinalTry ? <Alert color="red">One attempt left: a wrong PIN now locks the token.</Alert> : null}
        <PasswordInput label="Token PIN" autoComplete="off" data-autofocus value={pin} onChange={(e) => setPin(e.currentTarget.value)} />
        <Group justify="flex-end"><Button variant="default" onClick={onClose}>Cancel</Button><Button type="submit" loading={loading} disabled={pin === ''}>Log in</Button></Group>
      </Stack>
    </Modal>
  )
}

function ChangePinDialog({ token: opened, onClose }: { token: TokenDto | null; onClose: () => void }) {
  const last = useRef<TokenDto | null>(null)
  if (opened !== null) last.current = opened
  const token = opened ?? last.current
  const { changePin, loading } = useKeysStore()
  const [oldPin, setOldPin] = useState('')
  const [newPin, setNewPin] = useState('')
  const [repeat, setRepeat] = useState('')
  const [touched, setTouched] = useState(false)
  const problem = token === null ? null : newPinProblem(token.kind, newPin, repeat, SOFTWARE_TOKEN_PIN_POLICY)
  const close = (): void => {
    setOldPin('')
    setNewPin('')
    setRepeat('')
    setTouched(false)
    onClose()
  }
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (token === null || oldPin === '' || problem !== null) return
    void changePin({ tokenId: token.id, oldPin, newPin }).then((ok) => ok && close())
  }
  const name = token?.label || (token?.kind === 'software' ? 'the software token' : 'the token')
  return (
    <Modal opened={opened !== null} onClose={close} title={`Change the PIN of ${name}`}>
      <Stack component="form" onSubmit={submit} gap="sm" aria-label="Change token PIN">
        <Text size="sm">The PINs go straight to the token and are never stored or logged. Keys stay as they are; only the PIN that unlocks them changes.</Text>
        {token?.kind === 'software'
          ? <Text size="sm" data-testid="pin-policy">Rule: at least {SOFTWARE_TOKEN_PIN_POLICY.minLength} printable ASCII characters{SOFTWARE_TOKEN_PIN_POLICY.minCharacterClasses > 1 ? `, mixing ${SOFTWARE_TOKEN_PIN_POLICY.minCharacterClasses} of lower case, upper case, digits and other characters` : ''}.</Text>
          : <Text size="sm" data-testid="pin-policy">Rule: the device decides the PIN length and characters; see its manual.</Text>}
        {token?.pinFinalTry ? <Alert color="red">One attempt left: a wrong current PIN now locks the token.</Alert> : null}
        <PasswordInput label="Current PIN" autoComplete="off" data-autofocus value={oldPin} onChange={(e) => setOldPin(e.currentTarget.value)} error={touched && oldPin === '' ? 'Type the current PIN' : null} />
        <PasswordInput label="New PIN" autoComplete="new-password" value={newPin} onChange={(e) => setNewPin(e.currentTarget.value)} />
        <PasswordInput label="Repeat new PIN" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)} error={touched ? problem : null} />
        <Group justify="flex-end"><Button variant="default" onClick={close}>Cancel</Button><Button type="submit" loading={loading}>Change PIN</Button></Group>
      </Stack>
    </Modal>
  )
}

const TYPED_MODULE = '__typed__'

function AddPkcs11Dialog({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const { pkcs11Modules, loadPkcs11Modules, addPkcs11Token, loading } = useKeysStore()
  const [choice, setChoice] = useState<string | null>(null)
  const [typedPath, setTypedPath] = useState('')
  const [label, setLabel] = useState('')
  useEffect(() => {
    if (opened) void loadPkcs11Modules()
  }, [opened, loadPkcs11Modules])
  const selected = choice ?? pkcs11Modules[0]?.path ?? TYPED_MODULE
  const modulePath = selected === TYPED_MODULE ? typedPath.trim() : selected
  const close = (): void => {
    setChoice(null)
    setTypedPath('')
    setLabel('')
    onClose()
  }
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (modulePath === '' || label.trim() === '') return
    void addPkcs11Token({ modulePath, tokenLabel: label.trim() }).then((t) => t && close())
  }
  return (
    <Modal opened={opened} onClose={close} title="Add a PKCS#11 token" size="lg">
      <Stack component="form" onSubmit={submit} gap="sm" aria-label="Add a PKCS#11 token">
        <Text size="sm">
          A hardware security module or smart card keeps keys in the device. The server talks to it through the vendor&apos;s PKCS#11
          module library; choose it, then give the token&apos;s label as the device shows it. You log in with the token&apos;s own PIN afterwards.
        </Text>
        <Select
          label="Module"
          description={pkcs11Modules.length === 0 ? 'No known module is installed on the server; type the library path' : 'Modules found on the server'}
          data={[...pkcs11Modules.map((m) => ({ value: m.path, label: `${m.name} — ${m.path}` })), { value: TYPED_MODULE, label: 'Another module (type its path)' }]}
          value={selected} onChange={setChoice} allowDeselect={false}
        />
        {selected === TYPED_MODULE
          ? <TextInput label="Module library path" placeholder="/usr/lib/vendor/libpkcs11.so" value={typedPath} onChange={(e) => setTypedPath(e.currentTarget.value)} />
          : null}
        <TextInput label="Token label" description="Up to 32 characters, exactly as the device shows it" value={label} maxLength={32} onChange={(e) => setLabel(e.currentTarget.value)} />
        <Group justify="flex-end"><Button variant="default" onClick={close}>Cancel</Button><Button type="submit" loading={loading} disabled={modulePath === '' || label.trim() === ''}>Add token</Button></Group>
      </Stack>
    </Modal>
  )
}

function GenerateKeyCard() {
  const { tokens, generateKey, loading } = useKeysStore()
  const [tokenId, setTokenId] = useState<string | null>(null)
  const [usage, setUsage] = useState<KeyUsageValue>('sign')
  const [algorithm, setAlgorithm] = useState<KeyAlgorithmValue>('ec-p256')
  const [label, setLabel] = useState('')
  const chosen = tokenId ?? tokens.find((t) => t.loggedIn)?.id ?? tokens[0]?.id ?? null
  const token = tokens.find((t) => t.id === chosen)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (chosen === null) return
    void generateKey({ tokenId: chosen, usage, algorithm, label: label.trim() || `${usage} key` }).then((k) => k && setLabel(''))
  }
  return (
    <Card withBorder>
      <Title order={4} mb="sm">Generate a key</Title>
      <Stack component="form" gap="xs" onSubmit={submit} aria-label="Generate a key">
        <Select label="Token" data={tokens.map((t) => ({ value: t.id, label: `${t.label || t.id}${t.loggedIn ? '' : ' (logged out)'}` }))} value={chosen} onChange={setTokenId} allowDeselect={false} />
        <div>
          <Text size="sm" fw={500} id="key-usage-label">Usage</Text>
          <SegmentedControl aria-labelledby="key-usage-label" value={usage} onChange={(v) => setUsage(v as KeyUsageValue)} data={[{ value: 'sign', label: 'Signing' }, { value: 'auth', label: 'Authentication' }]} />
        </div>
        <Select label="Algorithm" description="EC P-256 is fast and small; use RSA if your CA requires it" data={KEY_ALGORITHM_VALUES.map((a) => ({ value: a, label: a.toUpperCase() }))} value={algorithm} onChange={(v) => v && setAlgorithm(v as KeyAlgorithmValue)} allowDeselect={false} />
        <TextInput label="Key label" placeholder={`${usage} key`} value={label} onChange={(e) => setLabel(e.currentTarget.value)} />
        {token !== undefined && !token.loggedIn ? <Text size="xs" c="orange">Log in to this token first.</Text> : null}
        <Group justify="flex-end"><Button type="submit" loading={loading} disabled={!token?.loggedIn}>Generate key</Button></Group>
      </Stack>
    </Card>
  )
}

function ImportCertificateCard() {
  const { importCertificate, loading } = useKeysStore()
  const [text, setText] = useState('')
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    void importCertificate({ content: text, encoding: 'utf8' }).then((ok) => ok && setText(''))
  }
  return (
    <Card withBorder>
      <Title order={4} mb="sm">Import a certificate</Title>
      <Stack component="form" gap="xs" onSubmit={submit} aria-label="Import a certificate">
        <Text size="sm">Choose the file your CA sent (PEM or DER), or paste the PEM text. It is matched to its key automatically.</Text>
        <FileButton accept=".pem,.crt,.cer,.der" onChange={(file) => void (file && readFileForUpload(file).then(importCertificate))}>
          {(props) => <Button variant="default" {...props}>Choose certificate file…</Button>}
        </FileButton>
        <Textarea label="Certificate (PEM)" autosize minRows={3} maxRows={6} value={text} onChange={(e) => setText(e.currentTarget.value)} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} />
        <Group justify="flex-end"><Button type="submit" loading={loading} disabled={text.trim() === ''}>Import</Button></Group>
      </Stack>
    </Card>
  )
}

function CsrWizard({ keyDto: opened, onClose }: { keyDto: KeyDto | null; onClose: () => void }) {
  // The last key stays shown while the dialog fades out.
  const last = useRef<KeyDto | null>(null)
  if (opened !== null) last.current = opened
  const keyDto = opened ?? last.current
  const { authorities, generateCsr, loading } = useKeysStore()
  const [caName, setCaName] = useState<string | null>(null)
  const [member, setMember] = useState('')
  const [format, setFormat] = useState<'pem' | 'der' | null>(null)
  const [saved, setSaved] = useState<string | null>(null)
  const usable = authorities.filter((a) => keyDto?.usage === 'auth' || !a.authenticationOnly)
  const ca = usable.find((a) => a.name === caName) ?? usable[0]
  const close = (): void => {
    setSaved(null)
    onClose()
  }
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (keyDto === null || ca === undefined) return
    void generateCsr({ keyId: keyDto.id, caName: ca.name, format: format ?? ca.defaultCsrFormat, ...(keyDto.usage === 'sign' && member.trim() !== '' ? { member: member.trim() } : {}) }).then((csr) => {
      if (csr === null) return
      saveFile(csr.fileName, csr.mimeType, csr.content, csr.encoding)
      setSaved(csr.fileName)
    })
  }
  return (
    <Modal opened={opened !== null} onClose={close} title={`Certificate request for “${keyDto?.label ?? ''}”`} size="lg">
      {saved ? (
        <Stack gap="sm">
          <Alert color="green" title="Request saved">{saved} was saved to your downloads. Send it to {ca?.name}; when the certificate comes back, import it on this page.</Alert>
          <Group justify="flex-end"><Button onClick={close}>Done</Button></Group>
        </Stack>
      ) : usable.length === 0 ? (
        <Alert color="yellow">No approved certification authority is known yet: global configuration has not been downloaded. Check the Global configuration page.</Alert>
      ) : (
        <Stack component="form" gap="sm" onSubmit={submit} aria-label="Certificate request">
          <Text size="sm">The request carries the key&apos;s public half and the subject your CA expects. The CA&apos;s certificate profile decides the subject fields.</Text>
          <Select label="Certification authority" data={usable.map((a) => ({ value: a.name, label: a.name }))} value={ca?.name ?? null} onChange={setCaName} allowDeselect={false} />
          {keyDto?.usage === 'sign'
            ? <TextInput label="Member" description="INSTANCE/CLASS/CODE of the member the signing certificate is for; empty for the owner" value={member} onChange={(e) => setMember(e.currentTarget.value)} />
            : <Text size="sm">An authentication certificate names this security server.</Text>}
          <div>
            <Text size="sm" fw={500} id="csr-format-label">File format</Text>
            <SegmentedControl aria-labelledby="csr-format-label" value={format ?? ca?.defaultCsrFormat ?? 'pem'} onChange={(v) => setFormat(v as 'pem' | 'der')} data={[{ value: 'pem', label: 'PEM' }, { value: 'der', label: 'DER' }]} />
          </div>
          <Group justify="flex-end"><Button variant="default" onClick={close}>Cancel</Button><Button type="submit" loading={loading}>Generate and save</Button></Group>
        </Stack>
      )}
    </Modal>
  )
}
