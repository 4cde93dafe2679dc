import { useEffect } from 'react'
import { Stack, Tabs, Text, Title } from '@mantine/core'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { AccessRightsPanel } from './AccessRightsPanel'
import { ClientsPanel } from './ClientsPanel'
import { LocalGroupsPanel } from './LocalGroupsPanel'
import { ServicesPanel } from './ServicesPanel'
import { useServicesStore, type ServicesTab } from './services-store'

/** Clients and subsystems, REST services with endpoints, access rights with "who may call what", and local groups. */
export function ServicesPage() {
  const t = useT('services')
  const { load, error, clearError, tab, setTab, clients, services, matrix, groups } = useServicesStore()
  useEffect(() => {
    void load()
  }, [load])
  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>{t('screen.title')}</Title>
        <Text c="dimmed" size="sm">{t('screen.intro')}</Text>
      </div>
      {error ? <ErrorNotice error={error} onClose={clearError} /> : null}
      <Tabs value={tab} onChange={(v) => setTab((v ?? 'clients') as ServicesTab)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="clients">{t('tabs.clients', { n: clients.length })}</Tabs.Tab>
          <Tabs.Tab value="services">{t('tabs.services', { n: services.length })}</Tabs.Tab>
          <Tabs.Tab value="access">{t('tabs.access', { n: matrix.length })}</Tabs.Tab>
          <Tabs.Tab value="groups">{t('tabs.groups', { n: groups.length })}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="clients"><ClientsPanel /></Tabs.Panel>
        <Tabs.Panel value="services"><ServicesPanel /></Tabs.Panel>
        <Tabs.Panel value="access"><AccessRightsPanel /></Tabs.Panel>
        <Tabs.Panel value="groups"><LocalGroupsPanel /></Tabs.Panel>
      </Tabs>
    </Stack>
  )
}
