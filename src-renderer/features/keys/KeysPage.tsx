import { useEffect, useRef, useState, type FormEvent } from 'react'
import {
  Alert, Badge, Button, Card, FileButton, Group, Loader, Modal, PasswordInput, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Textarea, Title,
} from '@mantine/core'
import {
  KEY_ALGORITHM_VALUES, SOFTWARE_TOKEN_PIN_POLICY, type CertificateDto, type CsrDto, type KeyAlgorithmValue, type KeyDto, type KeyUsageValue, type TokenDto,
  type TokenState,
} from '@shared/admin-api/admin-api'
import type { ManagementRequestDto } from '@shared/admin-api/management-api'
import { formatDateTime, useT } from '../../i18n'
import { Consequences, ConfirmAction } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError } from '../../lib/field-error'
import { readFileForUpload, saveFile } from '../../lib/save-file'
import { authCertRequestOf, certificateWords, expiryText, newPinProblem, useKeysStore } from './keys-store'
import { ConfigurationEdit, EditButton } from '../../lib/read-only'

const TOKEN_COLORS: Record<TokenState, string> = { 'logged-in': 'green', 'logged-out': 'yellow', locked: 'red', 'not-available': 'red', 'not-initialized': 'gray' }
const CERT_COLORS: Record<string, string> = { active: 'green', saved: 'blue', registered: 'blue', disabled: 'gray', revoked: 'red', expired: 'red' }
const OCSP_COLORS: Record<string, string> = { good: 'green', revoked: 'red', unknown: 'orange', stale: 'yellow', none: 'gray' }
/** Badges keep their whole text in every language (no "WORKI…"). */
const FULL_BADGE = { tt: 'none', style: { maxWidth: 'none', minWidth: 'max-content' } } as const
const inUse = (c: CertificateDto): boolean => c.state === 'active' || c.state === 'registered'

/**
 * Keys and certificates: tokens with state and PIN login, key generation, the CSR wizard, certificate requests,
 * certificate import and activation, and deletions that ask first, name what goes, and are refused while a certificate
 * is in use.
 */
export function KeysPage() {
  const t = useT('keys')
  const s = useKeysStore()
  const [loginToken, setLoginToken] = useState<TokenDto | null>(null)
  const [pinToken, setPinToken] = useState<TokenDto | null>(null)
  const [addingToken, setAddingToken] = useState(false)
  const [csrKey, setCsrKey] = useState<KeyDto | null>(null)
  const load = s.load
  useEffect(() => {
    void load()
  }, [load])
  const tokenName = (tk: TokenDto): string => tk.label || (tk.kind === 'software' ? t('tokens.softwareToken') : tk.id)
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>{t('title')}</Title>
        <Text c="dimmed" size="sm">{t('pageIntro')}</Text>
      </div>
      {s.error ? <ErrorNotice error={s.error} onClose={s.clearError} /> : null}
      {s.working ? (
        <Alert color="blue" icon={<Loader size="sm" />} role="status" aria-live="polite">{s.working}</Alert>
      ) : null}
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <Title order={4}>{t('tokens.title')}</Title>
          <EditButton size="xs" variant="default" onClick={() => setAddingToken(true)}>{t('tokens.add')}</EditButton>
        </Group>
        {s.tokens.length === 0 ? <Text size="sm" c="dimmed">{t('tokens.none')}</Text> : (
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label={t('tokens.table')}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('tokens.token')}</Table.Th><Table.Th>{t('tokens.type')}</Table.Th><Table.Th>{t('tokens.state')}</Table.Th>
                  <Table.Th>{t('tokens.keys')}</Table.Th><Table.Th><span className="sr-only">{t('tokens.actions')}</span></Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {s.tokens.map((tk) => (
                  <Table.Tr key={tk.id}>
                    <Table.Td>{tokenName(tk)}</Table.Td>
                    <Table.Td>{tk.kind === 'software' ? t('tokens.software') : t('tokens.pkcs11', { device: `${tk.manufacturer ?? ''} ${tk.model ?? ''}`.trim() })}</Table.Td>
                    <Table.Td>
                      <Badge color={TOKEN_COLORS[tk.state]} variant="light" {...FULL_BADGE}>{t(`tokenState.${tk.state}`)}</Badge>
                      {tk.pinFinalTry ? <Text size="xs" c="red">{t('tokens.finalTry')}</Text> : tk.pinCountLow ? <Text size="xs" c="orange">{t('tokens.countLow')}</Text> : null}
                    </Table.Td>
                    <Table.Td>{tk.keyCount}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {tk.loggedIn
                          ? <Button size="xs" variant="default" onClick={() => void s.logout(tk.id)}>{t('tokens.logOut')}</Button>
                          : <Button size="xs" disabled={tk.state === 'locked' || !tk.available} onClick={() => setLoginToken(tk)} aria-label={t('tokens.logInAria', { name: tk.label || tk.id })}>{t('tokens.logIn')}</Button>}
                        <Button size="xs" variant="subtle" disabled={tk.state === 'locked' || !tk.available} onClick={() => setPinToken(tk)} aria-label={t('tokens.changePinAria', { name: tk.label || tk.id })}>{t('tokens.changePin')}</Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
      <ConfigurationEdit>
        <SimpleGrid cols={{ base: 1, xl: 2 }}>
          <GenerateKeyCard />
          <ImportCertificateCard />
        </SimpleGrid>
      </ConfigurationEdit>
      <KeysCard onRequest={setCsrKey} tokenName={(id) => { const tk = s.tokens.find((x) => x.id === id); return tk === undefined ? id : tokenName(tk) }} />
      <CsrsCard />
      <CertificatesCard />
      <PinDialog token={loginToken} onClose={() => setLoginToken(null)} />
      <ChangePinDialog token={pinToken} onClose={() => setPinToken(null)} />
      <AddPkcs11Dialog opened={addingToken} onClose={() => setAddingToken(false)} />
      <CsrWizard keyDto={csrKey} onClose={() => setCsrKey(null)} />
    </Stack>
  )
}

function KeysCard({ onRequest, tokenName }: { onRequest: (key: KeyDto) => void; tokenName: (tokenId: string) => string }) {
  const t = useT('keys')
  const { keys, certificates, csrs, deleteKey } = useKeysStore()
  return (
    <Card withBorder>
      <Title order={4} mb="sm">{t('keys.title')}</Title>
      {keys.length === 0 ? <Text size="sm" c="dimmed">{t('keys.none')}</Text> : (
        <Table.ScrollContainer minWidth={640}>
          <Table aria-label={t('keys.table')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('keys.label')}</Table.Th><Table.Th>{t('keys.usage')}</Table.Th><Table.Th>{t('keys.algorithm')}</Table.Th>
                <Table.Th>{t('keys.certificates')}</Table.Th><Table.Th>{t('keys.created')}</Table.Th><Table.Th><span className="sr-only">{t('keys.actions')}</span></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.map((k) => {
                const own = certificates.filter((c) => c.keyId === k.id)
                const requests = csrs.filter((c) => c.keyId === k.id).length
                const used = own.filter(inUse)
                return (
                  <Table.Tr key={k.id}>
                    <Table.Td>{k.label}</Table.Td>
                    <Table.Td><Badge variant="outline" {...FULL_BADGE}>{t(`usage.${k.usage}`)}</Badge></Table.Td>
                    <Table.Td>{k.algorithm.toUpperCase()}</Table.Td>
                    <Table.Td>{k.certificateCount}</Table.Td>
                    <Table.Td>{formatDateTime(k.createdAt)}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        <EditButton size="xs" variant="light" onClick={() => onRequest(k)} aria-label={t('keys.requestCertificateAria', { label: k.label })}>{t('keys.requestCertificate')}</EditButton>
                        <ConfirmAction
                          label={t('deleteKey.button')}
                          ariaLabel={t('deleteKey.aria', { label: k.label })}
                          title={t('deleteKey.title', { label: k.label })}
                          consequences={<Consequences items={[
                            t('deleteKey.destroyed', { usage: t(`usage.${k.usage}`).toLowerCase(), label: k.label, token: tokenName(k.tokenId) }),
                            own.length === 0 ? t('deleteKey.noCertificates') : t('deleteKey.withCertificates', { count: own.length, list: own.map(certificateWords).join('; ') }),
                            ...(requests > 0 ? [t('deleteKey.withCsrs', { count: requests })] : []),
                            ...(used.length > 0 ? [<Text key="in-use" size="sm" c="red" component="span">{t('deleteKey.inUse', { list: used.map(certificateWords).join('; ') })}</Text>] : []),
                          ]} />}
                          confirmLabel={t('deleteKey.confirm')}
                          typeToConfirm={k.label}
                          onConfirm={() => deleteKey(k)}
                        />
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                )
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  )
}

function CsrsCard() {
  const t = useT('keys')
  const { csrs, keys, deleteCsr } = useKeysStore()
  if (csrs.length === 0) return null
  const labelOf = (c: CsrDto): string => keys.find((k) => k.id === c.keyId)?.label ?? c.keyId
  return (
    <Card withBorder>
      <Title order={4} mb={4}>{t('csrs.title')}</Title>
      <Text size="sm" c="dimmed" mb="sm">{t('csrs.intro')}</Text>
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label={t('csrs.table')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('csrs.key')}</Table.Th><Table.Th>{t('csrs.subject')}</Table.Th><Table.Th>{t('csrs.created')}</Table.Th>
              <Table.Th><span className="sr-only">{t('csrs.actions')}</span></Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {csrs.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{labelOf(c)}</Table.Td>
                <Table.Td><Text size="sm" style={{ overflowWrap: 'anywhere' }}>{c.subject}</Text></Table.Td>
                <Table.Td>{formatDateTime(c.createdAt)}</Table.Td>
                <Table.Td>
                  <ConfirmAction
                    label={t('csrs.deleteButton')}
                    ariaLabel={t('csrs.deleteAria', { subject: c.subject })}
                    title={t('csrs.deleteTitle')}
                    consequences={<Consequences items={[
                      t('csrs.deleteDestroyed', { subject: c.subject, created: formatDateTime(c.createdAt) }),
                      t('csrs.deleteKeyStays', { label: labelOf(c) }),
                    ]} />}
                    confirmLabel={t('csrs.deleteConfirm')}
                    onConfirm={() => deleteCsr(c.id)}
                  />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Card>
  )
}

function CertificatesCard() {
  const t = useT('keys')
  const { certificates, keys, requests, notice, clearNotice, setCertificateActive, deleteCertificate } = useKeysStore()
  const labelOf = (c: CertificateDto): string => keys.find((k) => k.id === c.keyId)?.label ?? c.keyId
  return (
    <Card withBorder>
      <Title order={4} mb="sm">{t('certificates.title')}</Title>
      {notice !== null ? (
        <Alert color="blue" mb="sm" withCloseButton onClose={clearNotice} closeButtonLabel={t('authCert.dismiss')} role="status">
          {t(`authCert.notice.${notice.kind}`, { subject: notice.subject, id: notice.requestId ?? '–' })}
        </Alert>
      ) : null}
      {certificates.length === 0 ? <Text size="sm" c="dimmed">{t('certificates.none')}</Text> : (
        <Table.ScrollContainer minWidth={760}>
          <Table aria-label={t('certificates.table')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('certificates.subject')}</Table.Th><Table.Th>{t('certificates.usage')}</Table.Th><Table.Th>{t('certificates.state')}</Table.Th>
                <Table.Th>{t('certificates.ocsp')}</Table.Th><Table.Th>{t('certificates.expiry')}</Table.Th><Table.Th><span className="sr-only">{t('certificates.actions')}</span></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {certificates.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td miw={180}>
                    <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{c.subject}</Text>
                    <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{t('certificates.issuedBy', { issuer: c.issuer })}</Text>
                  </Table.Td>
                  <Table.Td>{c.usage === null ? '–' : t(`usage.${c.usage}`)}</Table.Td>
                  <Table.Td><CertificateState certificate={c} pending={c.usage === 'auth' ? authCertRequestOf(requests, c) : undefined} /></Table.Td>
                  <Table.Td>
                    <Badge color={OCSP_COLORS[c.ocsp.status] ?? 'gray'} variant="light" {...FULL_BADGE}>{t(`ocspStatus.${c.ocsp.status}`)}</Badge>
                    {c.ocsp.lastError ? <Text size="xs" c="red">{c.ocsp.lastError}</Text> : null}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c={c.daysLeft < 7 ? 'red' : c.daysLeft < 30 ? 'orange' : undefined}>{expiryText(c.daysLeft)}</Text>
                    <Text size="xs" c="dimmed">{formatDateTime(c.notAfter, { dateStyle: 'medium' })}</Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {c.usage === 'auth' ? <AuthCertificateActions certificate={c} pending={authCertRequestOf(requests, c)} /> : null}
                      {c.state === 'active'
                        ? <EditButton size="xs" variant="default" onClick={() => void setCertificateActive(c.id, false)} aria-label={t('certificates.disableAria', { subject: c.subject })}>{t('certificates.disable')}</EditButton>
                        : c.state === 'saved' || c.state === 'disabled' || c.state === 'registered'
                          ? <EditButton size="xs" onClick={() => void setCertificateActive(c.id, true)} aria-label={t('certificates.activateAria', { subject: c.subject })}>{t('certificates.activate')}</EditButton>
                          : null}
                      <ConfirmAction
                        label={t('deleteCertificate.button')}
                        ariaLabel={t('deleteCertificate.aria', { subject: c.subject })}
                        title={t('deleteCertificate.title')}
                        consequences={<Consequences items={[
                          t('deleteCertificate.destroyed', { subject: c.subject, serial: c.serialNumber, issuer: c.issuer }),
                          t('deleteCertificate.keyStays', { label: labelOf(c) }),
                          ...(inUse(c) ? [<Text key="in-use" size="sm" c="red" component="span">{t('deleteCertificate.inUse', { state: t(`certState.${c.state}`) })}</Text>] : []),
                        ]} />}
                        confirmLabel={t('deleteCertificate.confirm')}
                        onConfirm={() => deleteCertificate(c)}
                      />
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Card>
  )
}

/** The certificate's state; for an authentication certificate with an open request, its progress and request id. */
function CertificateState({ certificate: c, pending }: { certificate: CertificateDto; pending: ManagementRequestDto | undefined }) {
  const t = useT('keys')
  const derived = pending?.service === 'authCertReg' ? 'registrationInProgress' : pending?.service === 'authCertDeletion' ? 'deletionInProgress' : null
  return (
    <Stack gap={4}>
      {derived !== null
        ? <Badge color="yellow" variant="light" {...FULL_BADGE}>{t(`authCert.state.${derived}`)}</Badge>
        : <Badge color={CERT_COLORS[c.state] ?? 'gray'} variant="light" {...FULL_BADGE}>{t(`certState.${c.state}`)}</Badge>}
      {derived !== null ? <Text size="xs" c="dimmed">{t('authCert.waiting', { id: pending?.requestId ?? '–' })}</Text> : null}
    </Stack>
  )
}

/**
 * Registering an authentication certificate with the central server (authCertReg, with the address other servers reach
 * this one at) and unregistering it (authCertDeletion); ug-ss §3.4, X-Road's TokenCertificateService rules.
 */
function AuthCertificateActions({ certificate: c, pending }: { certificate: CertificateDto; pending: ManagementRequestDto | undefined }) {
  const t = useT('keys')
  const { registerAuthCertificate, unregisterAuthCertificate } = useKeysStore()
  const [open, setOpen] = useState(false)
  const [address, setAddress] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const registrable = c.state === 'saved' && pending === undefined
  const unregistrable = ((c.state === 'registered' || c.state === 'active') && pending === undefined) || pending?.service === 'authCertReg'
  const send = (event: FormEvent): void => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    registerAuthCertificate(c, address).then(() => setOpen(false)).catch(setError).finally(() => setBusy(false))
  }
  const addressError = fieldError(error, 'address')
  return (
    <>
      {registrable && !open ? (
        <EditButton size="xs" onClick={() => setOpen(true)} aria-label={t('authCert.registerAria', { subject: c.subject })}>{t('authCert.register')}</EditButton>
      ) : null}
      {registrable && open ? (
        <Stack component="form" gap={4} onSubmit={send} aria-label={t('authCert.form', { subject: c.subject })} w="100%">
          <TextInput size="xs" label={t('authCert.address')} description={t('authCert.addressHint')} value={address} maxLength={255}
            onChange={(e) => setAddress(e.currentTarget.value)} error={addressError} data-autofocus />
          {error !== null && addressError === undefined ? <ErrorNotice error={error} /> : null}
          <Group gap={4}>
            <Button type="submit" size="xs" loading={busy} disabled={address.trim() === ''}>{t('authCert.send')}</Button>
            <Button size="xs" variant="subtle" onClick={() => setOpen(false)}>{t('authCert.cancel')}</Button>
          </Group>
        </Stack>
      ) : null}
      {unregistrable ? (
        <ConfirmAction
          label={t('authCert.unregister')}
          ariaLabel={t('authCert.unregisterAria', { subject: c.subject })}
          title={t('authCert.unregisterTitle')}
          consequences={<Consequences items={[t('authCert.unregisterBody', { subject: c.subject }), t('authCert.unregisterAfter')]} />}
          confirmLabel={t('authCert.unregister')}
          onConfirm={() => unregisterAuthCertificate(c)}
        />
      ) : null}
    </>
  )
}

function PinDialog({ token, onClose }: { token: TokenDto | null; onClose: () => void }) {
  const t = useT('keys', 'common')
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
    <Modal opened={token !== null} onClose={onClose} title={t('login.title', { name: token?.label || t('login.theToken') })}>
      <Stack component="form" onSubmit={submit} gap="sm" aria-label={t('login.form')}>
        <Text size="sm">{t('login.intro')}</Text>
        {token?.pinFinalTry ? <Alert color="red">{t('login.finalTry')}</Alert> : null}
        <PasswordInput label={t('login.pin')} autoComplete="off" data-autofocus value={pin} onChange={(e) => setPin(e.currentTarget.value)} />
        <Group justify="flex-end"><Button variant="default" onClick={onClose}>{t('common:actions.cancel')}</Button><Button type="submit" loading={loading} disabled={pin === ''}>{t('login.submit')}</Button></Group>
      </Stack>
    </Modal>
  )
}

function ChangePinDialog({ token: opened, onClose }: { token: TokenDto | null; onClose: () => void }) {
  const t = useT('keys', 'common')
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
  const name = token?.label || (token?.kind === 'software' ? t('changePin.theSoftwareToken') : t('changePin.theToken'))
  const policy = SOFTWARE_TOKEN_PIN_POLICY
  return (
    <Modal opened={opened !== null} onClose={close} title={t('changePin.title', { name })}>
      <Stack component="form" onSubmit={submit} gap="sm" aria-label={t('changePin.form')}>
        <Text size="sm">{t('changePin.intro')}</Text>
        <Text size="sm" data-testid="pin-policy">
          {token?.kind === 'software'
            ? (policy.minCharacterClasses > 1 ? t('changePin.softwareRuleClasses', { min: policy.minLength, classes: policy.minCharacterClasses }) : t('changePin.softwareRule', { min: policy.minLength }))
            : t('changePin.deviceRule')}
        </Text>
        {token?.pinFinalTry ? <Alert color="red">{t('changePin.finalTry')}</Alert> : null}
        <PasswordInput label={t('changePin.current')} autoComplete="off" data-autofocus value={oldPin} onChange={(e) => setOldPin(e.currentTarget.value)} error={touched && oldPin === '' ? t('changePin.typeCurrent') : null} />
        <PasswordInput label={t('changePin.new')} autoComplete="new-password" value={newPin} onChange={(e) => setNewPin(e.currentTarget.value)} />
        <PasswordInput label={t('changePin.repeat')} autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)} error={touched ? problem : null} />
        <Group justify="flex-end"><Button variant="default" onClick={close}>{t('common:actions.cancel')}</Button><Button type="submit" loading={loading}>{t('changePin.submit')}</Button></Group>
      </Stack>
    </Modal>
  )
}

const TYPED_MODULE = '__typed__'
/** A path, the same in every language. */
const MODULE_PATH_EXAMPLE = '/usr/lib/vendor/libpkcs11.so'

function AddPkcs11Dialog({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const t = useT('keys', 'common')
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
    void addPkcs11Token({ modulePath, tokenLabel: label.trim() }).then((tk) => tk && close())
  }
  return (
    <Modal opened={opened} onClose={close} title={t('addToken.title')} size="lg">
      <Stack component="form" onSubmit={submit} gap="sm" aria-label={t('addToken.title')}>
        <Text size="sm">{t('addToken.intro')}</Text>
        <Select
          label={t('addToken.module')}
          description={pkcs11Modules.length === 0 ? t('addToken.moduleNoneFound') : t('addToken.moduleFound')}
          data={[...pkcs11Modules.map((m) => ({ value: m.path, label: `${m.name} — ${m.path}` })), { value: TYPED_MODULE, label: t('addToken.otherModule') }]}
          value={selected} onChange={setChoice} allowDeselect={false}
        />
        {selected === TYPED_MODULE
          ? <TextInput label={t('addToken.modulePath')} placeholder={MODULE_PATH_EXAMPLE} value={typedPath} onChange={(e) => setTypedPath(e.currentTarget.value)} />
          : null}
        <TextInput label={t('addToken.label')} description={t('addToken.labelHint')} value={label} maxLength={32} onChange={(e) => setLabel(e.currentTarget.value)} />
        <Group justify="flex-end"><Button variant="default" onClick={close}>{t('common:actions.cancel')}</Button><Button type="submit" loading={loading} disabled={modulePath === '' || label.trim() === ''}>{t('addToken.submit')}</Button></Group>
      </Stack>
    </Modal>
  )
}

function GenerateKeyCard() {
  const t = useT('keys')
  const { tokens, generateKey, loading } = useKeysStore()
  const [tokenId, setTokenId] = useState<string | null>(null)
  const [usage, setUsage] = useState<KeyUsageValue>('sign')
  const [algorithm, setAlgorithm] = useState<KeyAlgorithmValue>('ec-p256')
  const [label, setLabel] = useState('')
  const chosen = tokenId ?? tokens.find((tk) => tk.loggedIn)?.id ?? tokens[0]?.id ?? null
  const token = tokens.find((tk) => tk.id === chosen)
  const defaultLabel = t(`generate.defaultLabel.${usage}`)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    if (chosen === null) return
    void generateKey({ tokenId: chosen, usage, algorithm, label: label.trim() || defaultLabel }).then((k) => k && setLabel(''))
  }
  return (
    <Card withBorder>
      <Title order={4} mb="sm">{t('generate.title')}</Title>
      <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('generate.title')}>
        <Select
          label={t('generate.token')} allowDeselect={false} value={chosen} onChange={setTokenId}
          data={tokens.map((tk) => ({ value: tk.id, label: tk.loggedIn ? tk.label || tk.id : t('generate.loggedOut', { name: tk.label || tk.id }) }))}
        />
        <div>
          <Text size="sm" fw={500} id="key-usage-label">{t('generate.usage')}</Text>
          <SegmentedControl aria-labelledby="key-usage-label" value={usage} onChange={(v) => setUsage(v as KeyUsageValue)} data={[{ value: 'sign', label: t('usage.sign') }, { value: 'auth', label: t('usage.auth') }]} />
        </div>
        <Select label={t('generate.algorithm')} description={t('generate.algorithmHint')} data={KEY_ALGORITHM_VALUES.map((a) => ({ value: a, label: a.toUpperCase() }))} value={algorithm} onChange={(v) => v && setAlgorithm(v as KeyAlgorithmValue)} allowDeselect={false} />
        <TextInput label={t('generate.label')} placeholder={defaultLabel} value={label} onChange={(e) => setLabel(e.currentTarget.value)} />
        {token !== undefined && !token.loggedIn ? <Text size="xs" c="orange">{t('generate.logInFirst')}</Text> : null}
        <Group justify="flex-end"><Button type="submit" loading={loading} disabled={!token?.loggedIn}>{t('generate.submit')}</Button></Group>
      </Stack>
    </Card>
  )
}

function ImportCertificateCard() {
  const t = useT('keys')
  const { importCertificate, importError, loading, keys } = useKeysStore()
  const [text, setText] = useState('')
  const [imported, setImported] = useState<string | null>(null)
  const done = (cert: CertificateDto | null): void => {
    if (cert === null) return
    setText('')
    setImported(t('import.imported', { label: keys.find((k) => k.id === cert.keyId)?.label ?? cert.keyId }))
  }
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setImported(null)
    void importCertificate({ content: text, encoding: 'utf8' }).then(done)
  }
  // A fault of the file (detail `content`) shows at the field; anything else (e.g. the member) above it.
  const atField = fieldError(importError, 'content')
  return (
    <Card withBorder>
      <Title order={4} mb="sm">{t('import.title')}</Title>
      <Stack component="form" gap="xs" onSubmit={submit} aria-label={t('import.title')}>
        <Text size="sm">{t('import.intro')}</Text>
        <FileButton accept=".pem,.crt,.cer,.der" onChange={(file) => {
          setImported(null)
          void (file && readFileForUpload(file).then(importCertificate).then(done))
        }}>
          {(props) => <Button variant="default" {...props}>{t('import.chooseFile')}</Button>}
        </FileButton>
        {importError !== null && atField === undefined ? <ErrorNotice error={importError} /> : null}
        <Textarea
          label={t('import.pem')} autosize minRows={3} maxRows={6} value={text} onChange={(e) => setText(e.currentTarget.value)}
          styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} error={atField}
        />
        {imported !== null ? <Alert color="green" role="status">{imported}</Alert> : null}
        <Group justify="flex-end"><Button type="submit" loading={loading} disabled={text.trim() === ''}>{t('import.submit')}</Button></Group>
      </Stack>
    </Card>
  )
}

function CsrWizard({ keyDto: opened, onClose }: { keyDto: KeyDto | null; onClose: () => void }) {
  const t = useT('keys', 'common')
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
    <Modal opened={opened !== null} onClose={close} title={t('csrWizard.title', { label: keyDto?.label ?? '' })} size="lg">
      {saved ? (
        <Stack gap="sm">
          <Alert color="green" title={t('csrWizard.savedTitle')}>{t('csrWizard.saved', { file: saved, ca: ca?.name ?? '' })}</Alert>
          <Group justify="flex-end"><Button onClick={close}>{t('csrWizard.done')}</Button></Group>
        </Stack>
      ) : usable.length === 0 ? (
        <Alert color="yellow">{t('csrWizard.noCa')}</Alert>
      ) : (
        <Stack component="form" gap="sm" onSubmit={submit} aria-label={t('csrWizard.form')}>
          <Text size="sm">{t('csrWizard.intro')}</Text>
          <Select label={t('csrWizard.ca')} data={usable.map((a) => ({ value: a.name, label: a.name }))} value={ca?.name ?? null} onChange={setCaName} allowDeselect={false} />
          {keyDto?.usage === 'sign'
            ? <TextInput label={t('csrWizard.member')} description={t('csrWizard.memberHint')} value={member} onChange={(e) => setMember(e.currentTarget.value)} />
            : <Text size="sm">{t('csrWizard.authSubject')}</Text>}
          <div>
            <Text size="sm" fw={500} id="csr-format-label">{t('csrWizard.format')}</Text>
            <SegmentedControl aria-labelledby="csr-format-label" value={format ?? ca?.defaultCsrFormat ?? 'pem'} onChange={(v) => setFormat(v as 'pem' | 'der')} data={[{ value: 'pem', label: 'PEM' }, { value: 'der', label: 'DER' }]} />
          </div>
          <Group justify="flex-end"><Button variant="default" onClick={close}>{t('common:actions.cancel')}</Button><Button type="submit" loading={loading}>{t('csrWizard.submit')}</Button></Group>
        </Stack>
      )}
    </Modal>
  )
}
