import { useState, type FormEvent } from 'react'
import { Alert, Button, Center, Code, Group, Paper, PasswordInput, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { PASSWORD_MIN_LENGTH, type ServerIdentity } from '@shared/admin-api/session'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { LanguageSwitch } from '../../lib/LanguageSwitch'
import { useSessionStore } from './session-store'

/**
 * Sign-in form, or the first-run form that creates the first administrator when no account exists. It names the
 * server it signs in to (several may run on one machine) and says so when a session has expired.
 */
export function LoginPage({ setup }: { setup: boolean }) {
  const t = useT('login', 'common')
  const { login, setup: createFirst, busy, error, clearError, expired, session } = useSessionStore()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [repeat, setRepeat] = useState('')
  const tooShort = setup && password.length > 0 && password.length < PASSWORD_MIN_LENGTH
  const mismatch = setup && repeat.length > 0 && repeat !== password

  const onSubmit = (event: FormEvent): void => {
    event.preventDefault()
    if (setup && (password.length < PASSWORD_MIN_LENGTH || password !== repeat)) return
    void (setup ? createFirst(username, password) : login(username, password)).then((ok) => {
      if (ok) setPassword('')
    })
  }

  return (
    <Center mih="100vh" bg="gray.1" p="md">
      <Paper component="form" onSubmit={onSubmit} withBorder shadow="sm" p="xl" radius="md" w={460} maw="100%" aria-label={setup ? t('form.setup') : t('form.signIn')}>
        <Stack>
          <Group justify="space-between" align="center" wrap="nowrap">
            <Title order={2}>{t('common:app.name')}</Title>
            <div style={{ flex: 'none' }}><LanguageSwitch /></div>
          </Group>
          <Text c="dimmed" size="sm" mt={-8}>{setup ? t('intro.setup') : t('intro.signIn')}</Text>
          {session?.server ? <ServerCard server={session.server} /> : null}
          {expired && !setup ? (
            <Alert color="yellow" title={t('expired.title')} role="status" data-testid="session-expired">
              <Text size="sm">{t('expired.text')}</Text>
            </Alert>
          ) : null}
          {error ? <ErrorNotice error={error} onClose={clearError} /> : null}
          <TextInput label={t('username')} name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.currentTarget.value)} data-autofocus />
          <PasswordInput
            label={t('password')}
            name="password"
            autoComplete={setup ? 'new-password' : 'current-password'}
            required
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            description={setup ? t('passwordHint', { min: PASSWORD_MIN_LENGTH }) : undefined}
            error={tooShort ? t('tooShort', { min: PASSWORD_MIN_LENGTH }) : undefined}
          />
          {setup ? (
            <PasswordInput label={t('repeat')} name="repeat" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)} error={mismatch ? t('mismatch') : undefined} />
          ) : null}
          <Button type="submit" loading={busy} fullWidth>
            {setup ? t('submit.setup') : t('submit.signIn')}
          </Button>
        </Stack>
      </Paper>
    </Center>
  )
}

/** The server's id (or that it is not initialized), the address the browser reached and the version. */
function ServerCard({ server }: { server: ServerIdentity }) {
  const t = useT('login')
  return (
    <Paper withBorder radius="sm" p="xs" bg="gray.0" aria-label={t('server.label')} data-testid="login-server">
      <Table withRowBorders={false} verticalSpacing={2} horizontalSpacing="xs">
        <Table.Tbody>
          <Table.Tr>
            <Table.Th scope="row" w="35%"><Text size="sm" fw={600}>{t('server.label')}</Text></Table.Th>
            <Table.Td>
              {server.serverId === null
                ? <Text size="sm" c="dimmed" data-testid="login-server-id">{t('server.notInitialized')}</Text>
                : <Text size="sm" fw={600} style={{ wordBreak: 'break-all' }} data-testid="login-server-id">{server.serverId}</Text>}
            </Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row"><Text size="sm">{t('server.address')}</Text></Table.Th>
            <Table.Td><Code>{server.address}</Code></Table.Td>
          </Table.Tr>
          <Table.Tr>
            <Table.Th scope="row"><Text size="sm">{t('server.version')}</Text></Table.Th>
            <Table.Td><Text size="sm">{server.version}</Text></Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
    </Paper>
  )
}
