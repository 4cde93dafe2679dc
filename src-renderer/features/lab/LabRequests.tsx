import { useState } from 'react'
import { Badge, Button, Card, Checkbox, Code, Group, SimpleGrid, Stack, Switch, Table, Text, Title } from '@mantine/core'
import type { LabManagementDto, LabManagementRequestDto } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { idPath, useLabAdminStore } from './lab-admin-store'

const WHOLE_BADGE = { root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible', textOverflow: 'clip' } } as const
const STATUS_COLOR: Record<LabManagementRequestDto['status'], string> = { WAITING: 'yellow', APPROVED: 'green', DECLINED: 'gray' }
const BREAK = { wordBreak: 'break-all' } as const
const BREAK_WORDS = { overflowWrap: 'anywhere' } as const
const NO_WRAP = { whiteSpace: 'nowrap' } as const
const DATE = { dateStyle: 'short', timeStyle: 'medium' } as const

/**
 * Management requests (X-Road central server's "Management requests"): what security servers asked of the lab over
 * pr-mserv, approved at once or held for the operator by the auto-approval options, with approve and decline for the
 * held ones, and the addresses servers send their requests to.
 */
export function LabRequests({ canChange }: { canChange: boolean }) {
  const t = useT('lab', 'common')
  const management = useLabAdminStore((s) => s.management)
  const act = useLabAdminStore((s) => s.act)
  const [onlyPending, setOnlyPending] = useState(false)
  const [error, setError] = useState<unknown>(null)
  if (management === null) return null
  const shown = onlyPending ? management.requests.filter((r) => r.status === 'WAITING') : management.requests
  const approve = (r: LabManagementRequestDto): void => {
    setError(null)
    act('approveManagementRequest', { id: r.id }).catch(setError)
  }
  return (
    <Stack gap="lg">
      <ServiceCard management={management} canChange={canChange} />
      <Card withBorder>
        <Group justify="space-between" mb="xs" wrap="wrap">
          <Title order={4}>{t('requests.title')}</Title>
          <Text size="sm" c="dimmed">{t('requests.counts', { total: management.counts.total, waiting: management.counts.waiting, approved: management.counts.approved, declined: management.counts.declined })}</Text>
        </Group>
        <Checkbox label={t('requests.onlyPending')} checked={onlyPending} onChange={(e) => setOnlyPending(e.currentTarget.checked)} mb="sm" />
        {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        {shown.length === 0 ? <Text size="sm" c="dimmed">{onlyPending ? t('requests.nonePending') : t('requests.none')}</Text> : (
          <Table.ScrollContainer minWidth={720}>
            <Table aria-label={t('requests.tableLabel')} verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('requests.id')}</Table.Th>
                  <Table.Th>{t('requests.type')}</Table.Th>
                  <Table.Th>{t('requests.server')}</Table.Th>
                  <Table.Th>{t('requests.details')}</Table.Th>
                  <Table.Th>{t('requests.status')}</Table.Th>
                  <Table.Th><span className="sr-only">{t('columnActions')}</span></Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((r) => (
                  <Table.Tr key={r.id} data-testid={`lab-request-${r.id}`}>
                    <Table.Td><Text size="sm">{r.id}</Text></Table.Td>
                    <Table.Td><Text size="sm">{t(`requests.types.${r.type}`)}</Text></Table.Td>
                    <Table.Td><Text size="sm"><PathText path={idPath(r.server)} /></Text></Table.Td>
                    <Table.Td>
                      {r.client !== null ? <Text size="sm" style={BREAK_WORDS}>{t('requests.client', { client: idPath(r.client) })}</Text> : null}
                      {r.subsystemName !== null ? <Text size="sm">{t('requests.subsystemName', { name: r.subsystemName })}</Text> : null}
                      {r.address !== null ? <Text size="sm" style={BREAK}>{t('requests.address', { address: r.address })}</Text> : null}
                      {r.authCertHash !== null ? <Text size="xs" c="dimmed" style={BREAK}>{t('requests.certificate', { hash: r.authCertHash })}</Text> : null}
                      <Text size="xs" c="dimmed" style={NO_WRAP}>{t('requests.received', { date: formatDateTime(r.receivedAt, DATE) })}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLOR[r.status]} variant="light" tt="none" styles={WHOLE_BADGE}>{t(`requests.statuses.${r.status}`)}</Badge>
                      {r.decidedAt !== null && r.decidedBy !== null ? (
                        <Text size="xs" c="dimmed" mt={4}>{t(`requests.decidedBy.${r.decidedBy}`, { date: formatDateTime(r.decidedAt, DATE) })}</Text>
                      ) : null}
                    </Table.Td>
                    <Table.Td>
                      {canChange && r.status === 'WAITING' ? (
                        <Stack gap={4} align="stretch">
                          <Button size="compact-xs" onClick={() => approve(r)} aria-label={t('requests.approveAria', { id: r.id })}>{t('requests.approve')}</Button>
                          <ConfirmAction
                            label={t('requests.decline')}
                            ariaLabel={t('requests.declineAria', { id: r.id })}
                            title={t('requests.declineTitle', { id: r.id, server: idPath(r.server) })}
                            consequences={<Consequences items={[t('requests.declineConsequence', { server: idPath(r.server) }), t('requests.declineResend')]} />}
                            confirmLabel={t('requests.decline')}
                            onConfirm={() => act('declineManagementRequest', { id: r.id })}
                            buttonProps={{ size: 'compact-xs' }}
                          />
                        </Stack>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
    </Stack>
  )
}

/** An identifier path that wraps only after its slashes (`LAB/GOV/1234/` then `SS1`), never inside a code. */
function PathText({ path }: { path: string }) {
  const parts = path.split('/')
  return <>{parts.map((part, i) => <span key={i}>{part}{i < parts.length - 1 ? <>/<wbr /></> : null}</span>)}</>
}

/** Where servers send management requests, and the auto-approval options of X-Road's central server. */
function ServiceCard({ management, canChange }: { management: LabManagementDto; canChange: boolean }) {
  const t = useT('lab', 'common')
  const act = useLabAdminStore((s) => s.act)
  const [error, setError] = useState<unknown>(null)
  const toggle = (option: 'authCertReg' | 'clientReg', value: boolean): void => {
    setError(null)
    act('setManagementAutoApproval', { [option]: value }).catch(setError)
  }
  const serve = (): void => {
    setError(null)
    act('serveManagementServices').catch(setError)
  }
  const url = (value: string | null) => (value === null ? <Text size="sm" c="dimmed">{t('requests.notRunning')}</Text> : <Code style={BREAK}>{value}</Code>)
  return (
    <Card withBorder>
      <Title order={4} mb="xs">{t('requests.serviceTitle')}</Title>
      <Text size="sm" mb="sm">{t('requests.serviceIntro')}</Text>
      <SimpleGrid cols={{ base: 1, md: 3 }} spacing="sm" mb="md">
        <div>
          <Text size="xs" c="dimmed">{t('requests.provider')}</Text>
          <Code style={BREAK}>{idPath(management.providerId)}</Code>
          <Text size="xs" c="dimmed" mt={4}>{t('requests.managementServer')}</Text>
          {management.managementSecurityServer === null
            ? <Text size="sm" c="orange">{t('requests.noManagementServer')}</Text>
            : <Code style={BREAK}>{idPath(management.managementSecurityServer)}</Code>}
        </div>
        <div><Text size="xs" c="dimmed">{t('requests.authCertRegUrl')}</Text>{url(management.authCertRegUrl)}</div>
        <div><Text size="xs" c="dimmed">{t('requests.serviceUrl')}</Text>{url(management.managementServiceUrl)}</div>
      </SimpleGrid>
      {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
      {canChange && management.managementSecurityServer === null ? (
        <Group mb="md" gap="sm" wrap="wrap">
          <Button variant="default" onClick={serve}>{t('requests.serve')}</Button>
          <Text size="xs" c="dimmed" style={{ flex: '1 1 260px' }}>{t('requests.serveHelp')}</Text>
        </Group>
      ) : null}
      <Stack gap="xs">
        <Switch
          label={t('requests.autoAuthCertReg')}
          checked={management.autoApproval.authCertReg}
          disabled={!canChange}
          onChange={(e) => toggle('authCertReg', e.currentTarget.checked)}
        />
        <Switch
          label={t('requests.autoClientReg')}
          checked={management.autoApproval.clientReg}
          disabled={!canChange}
          onChange={(e) => toggle('clientReg', e.currentTarget.checked)}
        />
        <Text size="xs" c="dimmed">{t('requests.autoOthers')}</Text>
      </Stack>
    </Card>
  )
}
