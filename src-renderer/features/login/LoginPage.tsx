import { useState, type FormEvent } from 'react'
import { Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core'
import { PASSWORD_MIN_LENGTH } from '@shared/admin-api/session'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useSessionStore } from './session-store'

/** Sign-in form, or the first-run form that creates the first administrator when no account exists. */
export function LoginPage({ setup }: { setup: boolean }) {
  const { login, setup: createFirst, busy, error, clearError } = useSessionStore()
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
    <Center mih="100vh" bg="gray.1">
      <Paper component="form" onSubmit={onSubmit} withBorder shadow="sm" p="xl" radius="md" w={420} aria-label={setup ? 'Create the first administrator' : 'Sign in'}>
        <Stack>
          <div>
            <Title order={2}>Gatehouse</Title>
            <Text c="dimmed" size="sm">
              {setup
                ? 'No administrator exists yet. Create the first account: it may manage the server and add other users.'
                : 'Sign in to manage this security server.'}
            </Text>
          </div>
          {error ? <ErrorNotice error={error} onClose={clearError} /> : null}
          <TextInput label="User name" name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.currentTarget.value)} data-autofocus />
          <PasswordInput
            label="Password"
            name="password"
            autoComplete={setup ? 'new-password' : 'current-password'}
            required
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            description={setup ? `At least ${PASSWORD_MIN_LENGTH} characters. A long passphrase is best.` : undefined}
            error={tooShort ? `Use at least ${PASSWORD_MIN_LENGTH} characters` : undefined}
          />
          {setup ? (
            <PasswordInput label="Repeat password" name="repeat" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)} error={mismatch ? 'The passwords differ' : undefined} />
          ) : null}
          <Button type="submit" loading={busy} fullWidth>
            {setup ? 'Create administrator and sign in' : 'Sign in'}
          </Button>
        </Stack>
      </Paper>
    </Center>
  )
}
