import { useEffect } from 'react'
import { AppShell, Badge, Button, Center, Group, Loader, MantineProvider, NavLink, Stack, Text, Title, createTheme } from '@mantine/core'
import { AuditLogPage } from '../features/audit-log/AuditLogPage'
import { CeremonyPage } from '../features/ceremony/CeremonyPage'
import { DashboardPage } from '../features/dashboard/DashboardPage'
import { DiagnosticsPage } from '../features/diagnostics/DiagnosticsPage'
import { FirstRunPage } from '../features/first-run/FirstRunPage'
import { GlobalConfPage } from '../features/global-conf/GlobalConfPage'
import { KeysPage } from '../features/keys/KeysPage'
import { ServicesPage } from '../features/services/ServicesPage'
import { SettingsPage } from '../features/settings/SettingsPage'
import { LoginPage } from '../features/login/LoginPage'
import { MessageLogPage } from '../features/message-log/MessageLogPage'
import { useSessionStore } from '../features/login/session-store'
import { UsersPage } from '../features/users/UsersPage'
import { ErrorNotice } from '../lib/ErrorNotice'
import { useRouterStore, type Route } from './router-store'

const theme = createTheme({ primaryColor: 'indigo', defaultRadius: 'md', fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' })

const NAVIGATION: Array<{ route: Route; label: string; description: string }> = [
  { route: 'dashboard', label: 'Dashboard', description: 'Status at a glance' },
  { route: 'setup', label: 'First run', description: 'Join an instance or create a lab' },
  { route: 'keys', label: 'Keys and certificates', description: 'Tokens, keys, CSRs' },
  { route: 'services', label: 'Clients and services', description: 'Services and access rights' },
  { route: 'global-conf', label: 'Global configuration', description: 'Instance members and trust' },
  { route: 'message-log', label: 'Message log', description: 'Evidence of every exchange' },
  { route: 'ceremony', label: 'Key ceremony', description: 'Offline keys, dual control' },
  { route: 'diagnostics', label: 'Diagnostics', description: 'Checks and message rates' },
  { route: 'settings', label: 'Settings', description: 'System parameters' },
  { route: 'audit', label: 'Audit log', description: 'Who changed what' },
  { route: 'users', label: 'Users and API keys', description: 'Accounts and roles' },
]

function Page({ route }: { route: Route }) {
  if (route === 'setup') return <FirstRunPage />
  if (route === 'keys') return <KeysPage />
  if (route === 'services') return <ServicesPage />
  if (route === 'global-conf') return <GlobalConfPage />
  if (route === 'message-log') return <MessageLogPage />
  if (route === 'ceremony') return <CeremonyPage />
  if (route === 'diagnostics') return <DiagnosticsPage />
  if (route === 'settings') return <SettingsPage />
  if (route === 'audit') return <AuditLogPage />
  if (route === 'users') return <UsersPage />
  return <DashboardPage />
}

function Shell() {
  const { route, navigate } = useRouterStore()
  const { session, logout } = useSessionStore()
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 240, breakpoint: 'sm' }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="xs">
            <Title order={3}>Gatehouse</Title>
            <Text c="dimmed" size="sm">security server</Text>
          </Group>
          <Group gap="sm">
            <Text size="sm">{session?.username}</Text>
            {session?.transport === 'desktop' ? <Badge variant="light">desktop</Badge> : <Button size="xs" variant="default" onClick={() => void logout()}>Sign out</Button>}
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label="Main navigation">
        {NAVIGATION.map((item) => (
          <NavLink
            key={item.route}
            href={`#/${item.route}`}
            label={item.label}
            description={item.description}
            active={route === item.route}
            aria-current={route === item.route ? 'page' : undefined}
            onClick={(event) => {
              event.preventDefault()
              navigate(item.route)
            }}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main bg="gray.0">
        <Page route={route} />
      </AppShell.Main>
    </AppShell>
  )
}

function Gate() {
  const { session, loading, error, load } = useSessionStore()
  useEffect(() => {
    void load()
  }, [load])
  if (loading && session === null) {
    return (
      <Center mih="100vh"><Loader aria-label="Loading" /></Center>
    )
  }
  if (session === null) {
    return (
      <Center mih="100vh">
        <Stack w={480}>{error ? <ErrorNotice error={error} /> : null}<Button onClick={() => void load()}>Try again</Button></Stack>
      </Center>
    )
  }
  if (!session.authenticated) return <LoginPage setup={session.setupRequired} />
  return <Shell />
}

export function App() {
  return (
    <MantineProvider theme={theme} defaultColorScheme="light">
      <Gate />
    </MantineProvider>
  )
}
