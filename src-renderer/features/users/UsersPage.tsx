import { useEffect, useRef, useState, type FormEvent } from 'react'
import {
  Alert, Badge, Button, Card, Checkbox, Code, CopyButton, Group, Modal, PasswordInput, SimpleGrid, Stack, Table, Text, TextInput, Title,
} from '@mantine/core'
import type { AdminUser, ApiKeyInfo } from '@shared/admin-api/admin-api'
import { ADMIN_ROLES, type AdminRole } from '@shared/admin-api/admin-roles'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_PATTERN } from '@shared/admin-api/session'
import { formatDateTime, useT } from '../../i18n'
import { Consequences, ConfirmAction } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError, isFieldError } from '../../lib/field-error'
import { useSessionStore } from '../login/session-store'
import { newPasswordProblem, useUsersStore } from './users-store'

/** Local admin accounts with their roles, your own password, and API keys for automation (UG-SS §2, §19.1). */
export function UsersPage() {
  const t = useT('users', 'common')
  const session = useSessionStore((s) => s.session)
  const { load, error, clearError } = useUsersStore()
  const roles = session?.roles ?? []
  const canListUsers = roles.includes('system-administrator') || roles.includes('security-officer')
  const canManage = roles.includes('system-administrator')
  const [notice, setNotice] = useState<string | null>(null)
  useEffect(() => {
    void load(canListUsers, canManage)
  }, [load, canListUsers, canManage])
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>{t('title')}</Title>
        <Text c="dimmed" size="sm">{t('pageIntro')}</Text>
      </div>
      {error ? <ErrorNotice error={error} onClose={clearError} /> : null}
      {notice ? <Alert color="green" role="status" withCloseButton onClose={() => setNotice(null)}>{notice}</Alert> : null}
      <AccountCard onDone={setNotice} />
      {canListUsers ? <UsersCard canManage={canManage} onDone={setNotice} /> : null}
      {canManage ? <ApiKeysCard onDone={setNotice} /> : <Text size="sm" c="dimmed">{t('keys.onlyAdmins')}</Text>}
    </Stack>
  )
}

function RoleBadges({ roles }: { roles: readonly AdminRole[] }) {
  const t = useT('users', 'common')
  return (
    <Group gap={4}>
      {roles.map((r) => <Badge key={r} variant="light" size="sm" tt="none" style={{ maxWidth: 'none', minWidth: 'max-content' }}>{t(`roles.${r}`)}</Badge>)}
    </Group>
  )
}

function RolePicker({ value, onChange, error }: { value: AdminRole[]; onChange: (roles: AdminRole[]) => void; error?: string | undefined }) {
  const t = useT('users', 'common')
  return (
    <Checkbox.Group label={t('rolesLabel')} value={value} onChange={(v) => onChange(v as AdminRole[])} error={error}>
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing={6} mt={6}>
        {ADMIN_ROLES.map((r) => <Checkbox key={r} value={r} label={t(`roles.${r}`)} />)}
      </SimpleGrid>
    </Checkbox.Group>
  )
}

function AccountCard({ onDone }: { onDone: (text: string) => void }) {
  const t = useT('users', 'common')
  const session = useSessionStore((s) => s.session)
  const changeOwnPassword = useUsersStore((s) => s.changeOwnPassword)
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [repeat, setRepeat] = useState('')
  const [touched, setTouched] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const name = session?.username ?? ''
  const desktop = session?.transport === 'desktop'
  const problem = newPasswordProblem(next, repeat, current)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (current === '' || problem !== null) return
    setBusy(true)
    setError(null)
    changeOwnPassword(current, next).then(() => {
      setCurrent('')
      setNext('')
      setRepeat('')
      setTouched(false)
      onDone(t('account.changed'))
    }, setError).finally(() => setBusy(false))
  }
  const fields = ['currentPassword', 'newPassword']
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs" wrap="wrap">
        <Title order={4}>{t('account.title')}</Title>
        <RoleBadges roles={session?.roles ?? []} />
      </Group>
      <Text size="sm" mb="sm">{t('account.signedInAs', { name })}</Text>
      {desktop ? (
        <Text size="sm" data-testid="password-not-available">{t('account.desktop', { name })}</Text>
      ) : (
        <Stack component="form" onSubmit={submit} gap="xs" maw={520} aria-label={t('account.changePassword')}>
          <Title order={5}>{t('account.changePassword')}</Title>
          <Text size="xs" c="dimmed">{t('account.otherSessionsEnd')}</Text>
          {error !== null && !isFieldError(error, fields) ? <ErrorNotice error={error} /> : null}
          <PasswordInput
            label={t('account.currentPassword')} autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.currentTarget.value)}
            error={fieldError(error, 'currentPassword') ?? (touched && current === '' ? t('problems.required') : undefined)}
          />
          <PasswordInput
            label={t('account.newPassword')} autoComplete="new-password" value={next} onChange={(e) => setNext(e.currentTarget.value)}
            description={t('passwordPolicy', { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH })} error={fieldError(error, 'newPassword')}
          />
          <PasswordInput
            label={t('account.repeatPassword')} autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)}
            error={touched ? problem ?? undefined : undefined}
          />
          <Group justify="flex-end"><Button type="submit" loading={busy}>{t('account.submit')}</Button></Group>
        </Stack>
      )}
    </Card>
  )
}

function UsersCard({ canManage, onDone }: { canManage: boolean; onDone: (text: string) => void }) {
  const t = useT('users', 'common')
  const { users, removeUser } = useUsersStore()
  const me = useSessionStore((s) => s.session?.username ?? null)
  const [editing, setEditing] = useState<AdminUser | null>(null)
  const [resetting, setResetting] = useState<AdminUser | null>(null)
  const roleList = (u: AdminUser): string => u.roles.map((r) => t(`roles.${r}`)).join(', ')
  return (
    <Card withBorder>
      <Title order={4} mb="sm">{t('list.title')}</Title>
      {canManage ? null : <Text size="sm" c="dimmed" mb="sm">{t('list.readOnly')}</Text>}
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label={t('list.table')} verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('list.user')}</Table.Th><Table.Th>{t('list.roles')}</Table.Th><Table.Th>{t('list.created')}</Table.Th>
              {canManage ? <Table.Th>{t('list.actions')}</Table.Th> : null}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {users.map((u) => (
              <Table.Tr key={u.username}>
                <Table.Td>
                  <Text size="sm" fw={500}>{u.username}</Text>
                  {u.username === me ? <Text size="xs" c="dimmed">{t('list.you')}</Text> : null}
                </Table.Td>
                <Table.Td><RoleBadges roles={u.roles} /></Table.Td>
                <Table.Td><Text size="sm">{formatDateTime(u.createdAt, { dateStyle: 'medium' })}</Text></Table.Td>
                {canManage ? (
                  <Table.Td>
                    <Group gap={4}>
                      <Button size="xs" variant="light" onClick={() => setEditing(u)} aria-label={t('editRoles.aria', { name: u.username })}>{t('editRoles.button')}</Button>
                      <Button size="xs" variant="subtle" onClick={() => setResetting(u)} aria-label={t('resetPassword.aria', { name: u.username })}>{t('resetPassword.button')}</Button>
                      <ConfirmAction
                        perNode
                        label={t('remove.button')}
                        ariaLabel={t('remove.aria', { name: u.username })}
                        title={t('remove.title', { name: u.username })}
                        consequences={<Consequences items={[
                          t('remove.consequence', { name: u.username }),
                          t('remove.rolesLost', { roles: roleList(u) }),
                          ...(u.username === me ? [t('remove.ownAccount')] : []),
                        ]} />}
                        confirmLabel={t('remove.confirm')}
                        onConfirm={() => removeUser(u.username).then(() => onDone(t('remove.removed', { name: u.username })))}
                      />
                    </Group>
                  </Table.Td>
                ) : null}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {canManage ? <AddUserForm onDone={onDone} /> : null}
      <UserRolesDialog user={editing} me={me} onClose={() => setEditing(null)} onDone={onDone} />
      <ResetPasswordDialog user={resetting} me={me} onClose={() => setResetting(null)} onDone={onDone} />
    </Card>
  )
}

function AddUserForm({ onDone }: { onDone: (text: string) => void }) {
  const t = useT('users', 'common')
  const addUser = useUsersStore((s) => s.addUser)
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [roles, setRoles] = useState<AdminRole[]>(['observer'])
  const [touched, setTouched] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const problem = newPasswordProblem(password, password)
  const nameProblem = USERNAME_PATTERN.test(username) ? undefined : t('refusals.username')
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (problem !== null || nameProblem !== undefined || roles.length === 0) return
    setBusy(true)
    setError(null)
    addUser({ username, password, roles }).then(() => {
      onDone(t('add.added', { name: username }))
      setUsername('')
      setPassword('')
      setTouched(false)
    }, setError).finally(() => setBusy(false))
  }
  const fields = ['username', 'password', 'roles']
  return (
    <Stack component="form" onSubmit={submit} mt="lg" gap="xs" maw={620} aria-label={t('add.title')}>
      <Title order={5}>{t('add.title')}</Title>
      {error !== null && !isFieldError(error, fields) ? <ErrorNotice error={error} /> : null}
      <TextInput
        label={t('add.username')} description={t('add.usernameHint')} value={username} onChange={(e) => setUsername(e.currentTarget.value)}
        error={fieldError(error, 'username') ?? (touched ? nameProblem : undefined)}
      />
      <PasswordInput
        label={t('add.password')} autoComplete="new-password" description={t('passwordPolicy', { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH })}
        value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={fieldError(error, 'password') ?? (touched ? problem ?? undefined : undefined)}
      />
      <RolePicker value={roles} onChange={setRoles} error={fieldError(error, 'roles') ?? (touched && roles.length === 0 ? t('problems.noRoles') : undefined)} />
      <Group justify="flex-end"><Button type="submit" loading={busy}>{t('add.submit')}</Button></Group>
    </Stack>
  )
}

/** Keeps the last value shown while a dialog fades out after it was closed. */
function useLast<T>(value: T | null): T | null {
  const last = useRef<T | null>(null)
  if (value !== null) last.current = value
  return value ?? last.current
}

function UserRolesDialog({ user: opened, me, onClose, onDone }: { user: AdminUser | null; me: string | null; onClose: () => void; onDone: (text: string) => void }) {
  const t = useT('users', 'common')
  const user = useLast(opened)
  const setUserRoles = useUsersStore((s) => s.setUserRoles)
  const [roles, setRoles] = useState<AdminRole[]>([])
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  useEffect(() => {
    if (opened !== null) {
      setRoles([...opened.roles])
      setError(null)
    }
  }, [opened])
  const name = user?.username ?? ''
  const losingOwnAdmin = user !== null && user.username === me && user.roles.includes('system-administrator') && !roles.includes('system-administrator')
  const save = (): void => {
    if (roles.length === 0) return
    setBusy(true)
    setError(null)
    setUserRoles(name, roles).then(() => {
      onDone(t('editRoles.saved', { name }))
      onClose()
    }, setError).finally(() => setBusy(false))
  }
  return (
    <Modal opened={opened !== null} onClose={onClose} title={t('editRoles.title', { name })} size="lg">
      <Stack gap="sm">
        <Text size="sm">{t('editRoles.intro')}</Text>
        <RolePicker value={roles} onChange={setRoles} error={roles.length === 0 ? t('problems.noRoles') : undefined} />
        {losingOwnAdmin ? <Alert color="orange">{t('editRoles.loseOwnAdmin')}</Alert> : null}
        {error !== null ? <ErrorNotice error={error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>{t('common:actions.cancel')}</Button>
          <Button onClick={save} loading={busy} disabled={roles.length === 0}>{t('common:actions.save')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}

function ResetPasswordDialog({ user: opened, me, onClose, onDone }: { user: AdminUser | null; me: string | null; onClose: () => void; onDone: (text: string) => void }) {
  const t = useT('users', 'common')
  const user = useLast(opened)
  const resetPassword = useUsersStore((s) => s.resetPassword)
  const [password, setPassword] = useState('')
  const [repeat, setRepeat] = useState('')
  const [touched, setTouched] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const name = user?.username ?? ''
  const problem = newPasswordProblem(password, repeat)
  const close = (): void => {
    setPassword('')
    setRepeat('')
    setTouched(false)
    setError(null)
    onClose()
  }
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (problem !== null) return
    setBusy(true)
    setError(null)
    resetPassword(name, password).then(() => {
      onDone(t('resetPassword.done', { name }))
      close()
    }, setError).finally(() => setBusy(false))
  }
  return (
    <Modal opened={opened !== null} onClose={close} title={t('resetPassword.title', { name })} size="lg">
      <Stack component="form" onSubmit={submit} gap="sm" aria-label={t('resetPassword.title', { name })}>
        <Text size="sm">{t('resetPassword.intro', { name })}</Text>
        {user?.username === me ? <Alert color="blue">{t('resetPassword.ownHint')}</Alert> : null}
        {error !== null && !isFieldError(error, ['password']) ? <ErrorNotice error={error} /> : null}
        <PasswordInput
          label={t('resetPassword.password')} autoComplete="new-password" data-autofocus value={password} onChange={(e) => setPassword(e.currentTarget.value)}
          description={t('passwordPolicy', { min: PASSWORD_MIN_LENGTH, max: PASSWORD_MAX_LENGTH })} error={fieldError(error, 'password')}
        />
        <PasswordInput
          label={t('resetPassword.repeat')} autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)}
          error={touched ? problem ?? undefined : undefined}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>{t('common:actions.cancel')}</Button>
          <Button type="submit" loading={busy}>{t('resetPassword.submit')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}

function ApiKeysCard({ onDone }: { onDone: (text: string) => void }) {
  const t = useT('users', 'common')
  const { apiKeys, newKey, dismissNewKey, revokeKey } = useUsersStore()
  const [editing, setEditing] = useState<ApiKeyInfo | null>(null)
  const roleList = (k: ApiKeyInfo): string => k.roles.map((r) => t(`roles.${r}`)).join(', ')
  return (
    <Card withBorder>
      <Title order={4} mb={4}>{t('keys.title')}</Title>
      <Text size="xs" c="dimmed" mb="sm">{t('keys.usage')}</Text>
      {newKey ? (
        <Alert color="yellow" title={t('newKey.title')} mb="sm" data-testid="new-api-key-notice">
          <Text size="sm">{t('newKey.note')}</Text>
          <Code block mt="xs" data-testid="new-api-key">{newKey.key}</Code>
          <Group mt="xs" gap="xs">
            <CopyButton value={newKey.key}>
              {({ copied, copy }) => <Button size="xs" color={copied ? 'teal' : 'blue'} onClick={copy}>{copied ? t('newKey.copied') : t('newKey.copy')}</Button>}
            </CopyButton>
            <Button size="xs" variant="default" onClick={dismissNewKey}>{t('newKey.dismiss')}</Button>
          </Group>
        </Alert>
      ) : null}
      {apiKeys.length === 0 ? <Text size="sm" c="dimmed">{t('keys.none')}</Text> : (
        <Table.ScrollContainer minWidth={680}>
          <Table aria-label={t('keys.table')} verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('keys.id')}</Table.Th><Table.Th>{t('keys.label')}</Table.Th><Table.Th>{t('keys.roles')}</Table.Th>
                <Table.Th>{t('keys.createdBy')}</Table.Th><Table.Th>{t('keys.state')}</Table.Th><Table.Th>{t('keys.actions')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {apiKeys.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td>{k.id}</Table.Td>
                  <Table.Td><Text size="sm" fw={500}>{k.label}</Text></Table.Td>
                  <Table.Td><RoleBadges roles={k.roles} /></Table.Td>
                  <Table.Td><Text size="sm">{k.createdBy}</Text><Text size="xs" c="dimmed">{formatDateTime(k.createdAt, { dateStyle: 'medium' })}</Text></Table.Td>
                  <Table.Td><Badge color={k.revokedAt ? 'gray' : 'green'} variant="light" tt="none" style={{ maxWidth: 'none', minWidth: 'max-content' }}>{k.revokedAt ? t('keys.revoked') : t('keys.active')}</Badge></Table.Td>
                  <Table.Td>
                    {k.revokedAt ? null : (
                      <Group gap={4}>
                        <Button size="xs" variant="light" onClick={() => setEditing(k)} aria-label={t('keyRoles.aria', { label: k.label })}>{t('keyRoles.button')}</Button>
                        <ConfirmAction
                          perNode
                          label={t('revoke.button')}
                          ariaLabel={t('revoke.aria', { label: k.label })}
                          title={t('revoke.title', { label: k.label })}
                          consequences={<Consequences items={[
                            t('revoke.consequence', { label: k.label, id: k.id }),
                            t('revoke.rolesLost', { roles: roleList(k) }),
                            t('revoke.final'),
                          ]} />}
                          confirmLabel={t('revoke.confirm')}
                          onConfirm={() => revokeKey(k.id)}
                        />
                      </Group>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <CreateKeyForm />
      <KeyRolesDialog apiKey={editing} onClose={() => setEditing(null)} onDone={onDone} />
    </Card>
  )
}

function CreateKeyForm() {
  const t = useT('users', 'common')
  const createKey = useUsersStore((s) => s.createKey)
  const [label, setLabel] = useState('')
  const [roles, setRoles] = useState<AdminRole[]>(['observer'])
  const [touched, setTouched] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setTouched(true)
    if (label.trim() === '' || roles.length === 0) return
    setBusy(true)
    setError(null)
    createKey({ label: label.trim(), roles }).then(() => {
      setLabel('')
      setTouched(false)
    }, setError).finally(() => setBusy(false))
  }
  return (
    <Stack component="form" onSubmit={submit} mt="lg" gap="xs" maw={620} aria-label={t('createKey.title')}>
      <Title order={5}>{t('createKey.title')}</Title>
      {error !== null && !isFieldError(error, ['label', 'roles']) ? <ErrorNotice error={error} /> : null}
      <TextInput
        label={t('createKey.label')} description={t('createKey.labelHint')} value={label} onChange={(e) => setLabel(e.currentTarget.value)}
        error={fieldError(error, 'label') ?? (touched && label.trim() === '' ? t('problems.noLabel') : undefined)}
      />
      <RolePicker value={roles} onChange={setRoles} error={fieldError(error, 'roles') ?? (touched && roles.length === 0 ? t('problems.noRoles') : undefined)} />
      <Group justify="flex-end"><Button type="submit" loading={busy}>{t('createKey.submit')}</Button></Group>
    </Stack>
  )
}

function KeyRolesDialog({ apiKey: opened, onClose, onDone }: { apiKey: ApiKeyInfo | null; onClose: () => void; onDone: (text: string) => void }) {
  const t = useT('users', 'common')
  const apiKey = useLast(opened)
  const setKeyRoles = useUsersStore((s) => s.setKeyRoles)
  const [roles, setRoles] = useState<AdminRole[]>([])
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  useEffect(() => {
    if (opened !== null) {
      setRoles([...opened.roles])
      setError(null)
    }
  }, [opened])
  const save = (): void => {
    if (apiKey === null || roles.length === 0) return
    setBusy(true)
    setError(null)
    setKeyRoles(apiKey.id, roles).then(() => {
      onDone(t('keyRoles.saved', { label: apiKey.label }))
      onClose()
    }, setError).finally(() => setBusy(false))
  }
  return (
    <Modal opened={opened !== null} onClose={onClose} title={t('keyRoles.title', { label: apiKey?.label ?? '', id: apiKey?.id ?? '' })} size="lg">
      <Stack gap="sm">
        <Text size="sm">{t('keyRoles.intro')}</Text>
        <RolePicker value={roles} onChange={setRoles} error={roles.length === 0 ? t('problems.noRoles') : undefined} />
        {error !== null ? <ErrorNotice error={error} /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>{t('common:actions.cancel')}</Button>
          <Button onClick={save} loading={busy} disabled={roles.length === 0}>{t('common:actions.save')}</Button>
        </Group>
      </Stack>
    </Modal>
  )
}
