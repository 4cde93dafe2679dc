import { useEffect, useState } from 'react'
import { Accordion, Alert, Button, Group, List, Loader, Stack, Tabs, Text, Title } from '@mantine/core'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { useSessionStore } from '../login/session-store'
import { LabCertificates } from './LabCertificates'
import { LabGroups } from './LabGroups'
import { LabMembers } from './LabMembers'
import { LabRequests } from './LabRequests'
import { LabServers } from './LabServers'
import { LabAnchor, LabTrustServices } from './LabTrust'
import { useLabAdminStore } from './lab-admin-store'

export const LAB_TABS = ['members', 'servers', 'requests', 'certificates', 'groups', 'trust', 'anchor'] as const
export type LabTab = (typeof LAB_TABS)[number]
const JOIN_STEPS = ['step1', 'step2', 'step3', 'step4', 'step5', 'step6', 'step7', 'step8'] as const

/**
 * The Lab page: the central server's side of the lab this server hosts, in the sections of X-Road's central server UI
 * (members, security servers, management requests, certificates, global groups, trust services) plus the anchor joining servers need, and
 * the steps by which another server joins. Every role may look; changes need the system administrator role.
 */
export function LabPage() {
  const t = useT('lab', 'common')
  const s = useLabAdminStore()
  const canChange = useSessionStore((state) => state.session?.roles.includes('system-administrator') ?? false)
  const [tab, setTab] = useState<LabTab>('members')
  const load = s.load
  useEffect(() => {
    void load()
  }, [load])

  if (s.status !== null && !s.status.exists) return <Alert color="gray">{t('noLab')}</Alert>
  // Everything at once: the help starts open only while the lab has no server besides this one, which the lists tell.
  if (s.status === null || s.trust === null) {
    return s.error ? <ErrorNotice error={s.error} onClose={s.clearError} /> : <Loader aria-label={t('common:loading')} />
  }
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end" wrap="nowrap">
        <div>
          <Title order={2}>{t('title', { instance: s.status.instance ?? '' })}</Title>
          <Text c="dimmed" size="sm">{t('intro')}</Text>
        </div>
        <Button variant="default" onClick={() => void load()} loading={s.loading} style={{ flexShrink: 0 }}>{t('common:actions.refresh')}</Button>
      </Group>
      {s.error ? <ErrorNotice error={s.error} onClose={s.clearError} /> : null}
      {canChange ? null : <Alert color="blue">{t('readOnly')}</Alert>}
      <Accordion variant="contained" defaultValue={s.servers.length <= 1 ? 'join' : null}>
        <Accordion.Item value="join">
          <Accordion.Control>{t('join.title')}</Accordion.Control>
          <Accordion.Panel>
            <Text size="sm" mb="xs">{t('join.intro')}</Text>
            <List type="ordered" size="sm" spacing={4} data-testid="lab-join-steps">
              {JOIN_STEPS.map((step) => <List.Item key={step}>{t(`join.${step}`)}</List.Item>)}
            </List>
          </Accordion.Panel>
        </Accordion.Item>
      </Accordion>
      <Tabs value={tab} onChange={(value) => value !== null && setTab(value as LabTab)} keepMounted={false}>
        <Tabs.List aria-label={t('tabs.label')}>
          {LAB_TABS.map((id) => <Tabs.Tab key={id} value={id}>{t(`tabs.${id}`)}</Tabs.Tab>)}
        </Tabs.List>
        <Tabs.Panel value="members" pt="md"><LabMembers canChange={canChange} /></Tabs.Panel>
        <Tabs.Panel value="servers" pt="md"><LabServers canChange={canChange} /></Tabs.Panel>
        <Tabs.Panel value="requests" pt="md"><LabRequests canChange={canChange} /></Tabs.Panel>
        <Tabs.Panel value="certificates" pt="md"><LabCertificates canChange={canChange} /></Tabs.Panel>
        <Tabs.Panel value="groups" pt="md"><LabGroups canChange={canChange} /></Tabs.Panel>
        <Tabs.Panel value="trust" pt="md"><LabTrustServices canChange={canChange} /></Tabs.Panel>
        <Tabs.Panel value="anchor" pt="md"><LabAnchor /></Tabs.Panel>
      </Tabs>
    </Stack>
  )
}
