import { useEffect } from 'react'
import { AppShell, Badge, Button, Center, Group, Loader, MantineProvider, NavLink, Stack, Text, Title, createTheme } from '@mantine/core'
import { AuditLogPage } from '../features/audit-log/AuditLogPage'
import { CeremonyPage } from '../features/ceremony/CeremonyPage'
import { SecondaryBanner } from '../features/cluster/SecondaryBanner'
import { DashboardPage } from '../features/dashboard/DashboardPage'
import { DiagnosticsPage } from '../features/diagnostics/DiagnosticsPage'
import { FirstRunPage } from '../features/first-run/FirstRunPage'
import { GlobalConfPage } from '../features/global-conf/GlobalConfPage'
import { LabPage } from '../features/lab/LabPage'
import { useLabAdminStore } from '../features/lab/lab-admin-store'
import { KeysPage } from '../features/keys/KeysPage'
import { ServicesPage } from '../features/services/ServicesPage'
import { SettingsPage } from '../features/settings/SettingsPage'
import { LoginPage } from '../features/login/LoginPage'
import { MessageLogPage } from '../features/message-log/MessageLogPage'
import { OperationsPage } from '../features/operations/OperationsPage'
import { AlertBell } from '../features/operations/AlertBell'
import { useFollowServerEvents } from '../features/operations/follow-server-events'
import { useSessionStore } from '../features/login/session-store'
import { UsersPage } from '../features/users/UsersPage'
import { ErrorNotice } from '../lib/ErrorNotice'
import { LanguageSwitch } from '../lib/LanguageSwitch'
import { useT } from '../i18n'
import { useRouterStore, type Route } from './router-store'

const theme = createTheme({ primaryColor: 'indigo', defaultRadius: 'md', fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' })

/** The main navigation, in order; labels and descriptions are `common:nav.<route>.label|description`. */
const NAVIGATION: Route[] = ['dashboard', 'setup', 'keys', 'services', 'global-conf', 'lab', 'message-log', 'operations', 'ceremony', 'diagnostics', 'settings', 'audit', 'users']

function Page({ route }: { route: Route }) {
  if (route === 'setup') return <FirstRunPage />
  if (route === 'keys') return <KeysPage />
  if (route === 'services') return <ServicesPage />
  if (route === 'global-conf') return <GlobalConfPage />
  if (route === 'lab') return <LabPage />
  if (route === 'message-log') return <MessageLogPage />
  if (route === 'operations') return <OperationsPage />
  if (route === 'ceremony') return <CeremonyPage />
  if (route === 'diagnostics') return <DiagnosticsPage />
  if (route === 'settings') return <SettingsPage />
  if (route === 'audit') return <AuditLogPage />
  if (route === 'users') return <UsersPage />
  return <DashboardPage />
}

function Shell() {
  const t = useT()
  const { route, navigate } = useRouterStore()
  const { session, logout } = useSessionStore()
  // The Lab page is there only on a server that hosts a lab; asked again on every navigation (the wizard may just have made one).
  const hostsLab = useLabAdminStore((s) => s.status?.exists ?? false)
  const checkHosted = useLabAdminStore((s) => s.checkHosted)
  useEffect(() => {
    void checkHosted()
  }, [route, checkHosted])
  // The server's events refresh the dashboard and the alerts as they happen (no polling after each action).
  useFollowServerEvents()
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 240, breakpoint: 'sm' }} padding="lg">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="xs">
            <Title order={3}>{t('app.name')}</Title>
            <Text c="dimmed" size="sm">{t('app.tagline')}</Text>
          </Group>
          <Group gap="sm">
            <AlertBell />
            <LanguageSwitch />
            <Text size="sm">{session?.username}</Text>
            {session?.transport === 'desktop' ? <Badge variant="light">{t('session.desktop')}</Badge> : <Button size="xs" variant="default" onClick={() => void logout()}>{t('actions.signOut')}</Button>}
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" component="nav" aria-label={t('nav.label')}>
        {NAVIGATION.filter((item) => item !== 'lab' || hostsLab).map((item) => (
          <NavLink
            key={item}
            href={`#/${item}`}
            label={t(`nav.${item}.label`)}
            description={t(`nav.${item}.description`)}
            active={route === item}
            aria-current={route === item ? 'page' : undefined}
            onClick={(event) => {
              event.preventDefault()
              navigate(item)
            }}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main bg="gray.0">
        <SecondaryBanner />
        <Page route={route} />
      </AppShell.Main>
    </AppShell>
  )
}

function Gate() {
  const t = useT()
  const { session, loading, error, load } = useSessionStore()
  useEffect(() => {
    void load()
  }, [load])
  if (loading && session === null) {
    return (
      <Center mih="100vh"><Loader aria-label={t('loading')} /></Center>
    )
  }
  if (session === null) {
    return (
      <Center mih="100vh">
        <Stack w={480}>{error ? <ErrorNotice error={error} /> : null}<Button onClick={() => void load()}>{t('actions.tryAgain')}</Button></Stack>
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
