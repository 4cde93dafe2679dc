import { useEffect, useState, type FormEvent } from 'react'
import { Alert, Badge, Button, Card, Code, Group, MultiSelect, PasswordInput, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { ADMIN_ROLES, ROLE_LABELS, type AdminRole } from '@shared/admin-api/admin-roles'
import { PASSWORD_MIN_LENGTH } from '@shared/admin-api/session'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useUsersStore } from './users-store'

const ROLE_OPTIONS = ADMIN_ROLES.map((r) => ({ value: r, label: ROLE_LABELS[r] }))

/** Local admin accounts with their roles, and API keys for automation. */
export function UsersPage() {
  const { users, apiKeys, newKey, loading, error, load, addUser, removeUser, createKey, revokeKey, clearError } = useUsersStore()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [roles, setRoles] = useState<string[]>(['observer'])
  const [label, setLabel] = useState('')
  const [keyRoles, setKeyRoles] = useState<string[]>(['observer'])
  useEffect(() => {
    void load()
  }, [load])

  const onAddUser = (event: FormEvent): void => {
    event.preventDefault()
    void addUser({ username, password, roles: roles as AdminRole[] }).then((ok) => {
      if (ok) {
        setUsername('')
        setPassword('')
      }
    })
  }
  const onCreateKey = (event: FormEvent): void => {
    event.preventDefault()
    void createKey({ label, roles: keyRoles as AdminRole[] }).then((ok) => ok && setLabel(''))
  }

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Users and API keys</Title>
        <Text c="dimmed" size="sm">Who may sign in, with which roles, and keys for scripts that call the admin API.</Text>
      </div>
      {error ? <ErrorNotice error={error} onClose={clearError} /> : null}
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Card withBorder radius="md">
          <Title order={4} mb="sm">Users</Title>
          <Table aria-label="Users">
            <Table.Thead><Table.Tr><Table.Th>User</Table.Th><Table.Th>Roles</Table.Th><Table.Th><span className="sr-only">Actions</span></Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {users.map((u) => (
                <Table.Tr key={u.username}>
                  <Table.Td>{u.username}</Table.Td>
                  <Table.Td><Group gap={4}>{u.roles.map((r) => <Badge key={r} variant="light" size="sm">{ROLE_LABELS[r]}</Badge>)}</Group></Table.Td>
                  <Table.Td><Button size="xs" variant="subtle" color="red" onClick={() => void removeUser(u.username)} aria-label={`Remove user ${u.username}`}>Remove</Button></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Stack component="form" onSubmit={onAddUser} mt="md" gap="xs" aria-label="Add a user">
            <TextInput label="User name" required value={username} onChange={(e) => setUsername(e.currentTarget.value)} />
            <PasswordInput label="Password" required autoComplete="new-password" description={`At least ${PASSWORD_MIN_LENGTH} characters`} value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
            <MultiSelect label="Roles" data={ROLE_OPTIONS} value={roles} onChange={setRoles} required />
            <Button type="submit" loading={loading}>Add user</Button>
          </Stack>
        </Card>
        <Card withBorder radius="md">
          <Title order={4} mb="sm">API keys</Title>
          {newKey ? (
            <Alert color="yellow" title="Copy the new key now" mb="sm">
              <Text size="sm">It is shown only once. Send it as <Code>Authorization: X-Road-ApiKey token=…</Code></Text>
              <Code block mt="xs" data-testid="new-api-key">{newKey}</Code>
            </Alert>
          ) : null}
          <Table aria-label="API keys">
            <Table.Thead><Table.Tr><Table.Th>Label</Table.Th><Table.Th>Roles</Table.Th><Table.Th>State</Table.Th><Table.Th><span className="sr-only">Actions</span></Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {apiKeys.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td>{k.label}</Table.Td>
                  <Table.Td><Text size="xs">{k.roles.map((r) => ROLE_LABELS[r]).join(', ')}</Text></Table.Td>
                  <Table.Td><Badge color={k.revokedAt ? 'gray' : 'green'} variant="light">{k.revokedAt ? 'revoked' : 'active'}</Badge></Table.Td>
                  <Table.Td>{k.revokedAt ? null : <Button size="xs" variant="subtle" color="red" onClick={() => void revokeKey(k.id)} aria-label={`Revoke API key ${k.label}`}>Revoke</Button>}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Stack component="form" onSubmit={onCreateKey} mt="md" gap="xs" aria-label="Create an API key">
            <TextInput label="Label" required value={label} onChange={(e) => setLabel(e.currentTarget.value)} />
            <MultiSelect label="Roles" data={ROLE_OPTIONS} value={keyRoles} onChange={setKeyRoles} required />
            <Button type="submit" loading={loading}>Create API key</Button>
          </Stack>
        </Card>
      </SimpleGrid>
    </Stack>
  )
}
