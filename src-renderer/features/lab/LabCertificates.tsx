import { useState } from 'react'
import { Alert, Badge, Button, Card, FileButton, Group, Input, SegmentedControl, SimpleGrid, Stack, Table, Text, Textarea, Title } from '@mantine/core'
import type { LabCertificateDto, LabCertificateFileDto, LabCsrInspectionDto } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ConfirmAction, Consequences } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { readFileForUpload, saveFile } from '../../lib/save-file'
import { idPath, useLabAdminStore } from './lab-admin-store'

const WHOLE_BADGE = { root: { maxWidth: 'none', flexShrink: 0 }, label: { overflow: 'visible', textOverflow: 'clip' } } as const
const STATUS_COLOR: Record<LabCertificateDto['status'], string> = { good: 'green', revoked: 'red', expired: 'gray' }
const DATE = { dateStyle: 'short' } as const
const NO_WRAP = { whiteSpace: 'nowrap' } as const
const BREAK = { wordBreak: 'break-all' } as const

/** Saves a certificate as PEM text or DER bytes. */
export function downloadCertificate(file: LabCertificateFileDto, format: 'pem' | 'der'): void {
  if (format === 'pem') saveFile(`${file.fileName}.pem`, 'application/x-pem-file', file.pem, 'utf8')
  else saveFile(`${file.fileName}.der`, 'application/pkix-cert', file.derBase64, 'base64')
}

/** Certificates the lab issued (with status and where they are registered), revocation, and signing another server's CSR. */
export function LabCertificates({ canChange }: { canChange: boolean }) {
  const t = useT('lab', 'common')
  const { certificates, act } = useLabAdminStore()
  const [error, setError] = useState<unknown>(null)
  const download = (serial: string, format: 'pem' | 'der'): void => {
    setError(null)
    act('certificate', { serial }).then((file) => downloadCertificate(file, format)).catch(setError)
  }
  return (
    <Stack gap="lg">
      {canChange ? <SignCsrCard /> : null}
      <Card withBorder>
        <Title order={4} mb="sm">{t('certificates.title')}</Title>
        {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
        <Table.ScrollContainer minWidth={600}>
          <Table aria-label={t('certificates.tableLabel')} verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('certificates.subject')}</Table.Th>
                <Table.Th>{t('certificates.usage')}</Table.Th>
                <Table.Th>{t('certificates.validity')}</Table.Th>
                <Table.Th>{t('certificates.status')}</Table.Th>
                <Table.Th><span className="sr-only">{t('columnActions')}</span></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {certificates.map((c) => (
                <Table.Tr key={c.serial}>
                  <Table.Td>
                    <Text size="sm">{c.subject}</Text>
                    <Text size="xs" c="dimmed" style={BREAK}>{t('certificates.serial', { serial: c.serial })}</Text>
                    {c.registeredOn.length > 0 ? <Text size="xs" c="dimmed">{t('certificates.registeredOn', { servers: c.registeredOn.map(idPath).join(', ') })}</Text> : null}
                  </Table.Td>
                  <Table.Td><Badge variant="outline" tt="none" styles={WHOLE_BADGE}>{t(`usage.${c.usage}`)}</Badge></Table.Td>
                  <Table.Td>
                    <Text size="sm" style={NO_WRAP}>{t('certificates.validFrom', { date: formatDateTime(c.notBefore, DATE) })}</Text>
                    <Text size="sm" style={NO_WRAP}>{t('certificates.validTo', { date: formatDateTime(c.notAfter, DATE) })}</Text>
                  </Table.Td>
                  <Table.Td><Badge color={STATUS_COLOR[c.status]} variant="light" tt="none" styles={WHOLE_BADGE}>{t(`status.${c.status}`)}</Badge></Table.Td>
                  <Table.Td>
                    <Stack gap={4} align="stretch">
                      <Button size="compact-xs" variant="default" onClick={() => download(c.serial, 'pem')} aria-label={t('certificates.downloadPemAria', { serial: c.serial })}>{t('certificates.downloadPem')}</Button>
                      <Button size="compact-xs" variant="default" onClick={() => download(c.serial, 'der')} aria-label={t('certificates.downloadDerAria', { serial: c.serial })}>{t('certificates.downloadDer')}</Button>
                      {canChange && c.status === 'good' && (c.usage === 'sign' || c.usage === 'auth') ? (
                        <ConfirmAction
                          label={t('certificates.revoke')}
                          ariaLabel={t('certificates.revokeAria', { serial: c.serial })}
                          title={t('certificates.revokeTitle', { subject: c.subject })}
                          consequences={<Consequences items={[
                            t('certificates.revokeConsequence', { serial: c.serial }),
                            ...(c.usage === 'sign' ? [t('certificates.revokeSign')] : c.usage === 'auth' ? [t('certificates.revokeAuth')] : []),
                            ...(c.registeredOn.length > 0 ? [t('certificates.revokeRegistered', { servers: c.registeredOn.map(idPath).join(', ') })] : []),
                          ]} />}
                          confirmLabel={t('certificates.revoke')}
                          onConfirm={() => act('revokeCertificate', { serial: c.serial })}
                          buttonProps={{ size: 'compact-xs' }}
                        />
                      ) : null}
                    </Stack>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
    </Stack>
  )
}

interface CsrFile {
  content: string
  encoding: 'utf8' | 'base64'
}

/** Upload (or paste) a CSR, see what the certificate profile makes of it, sign, download the certificate. */
function SignCsrCard() {
  const t = useT('lab', 'common')
  const act = useLabAdminStore((s) => s.act)
  const [pasted, setPasted] = useState('')
  const [csr, setCsr] = useState<CsrFile | null>(null)
  const [inspection, setInspection] = useState<LabCsrInspectionDto | null>(null)
  const [usage, setUsage] = useState<'sign' | 'auth'>('sign')
  const [issued, setIssued] = useState<LabCertificateFileDto | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)

  const inspect = (file: CsrFile, chosen?: 'sign' | 'auth'): void => {
    setCsr(file)
    setBusy(true)
    setError(null)
    setInspection(null)
    act('inspectCsr', { ...file, ...(chosen === undefined ? {} : { usage: chosen }) })
      .then((found) => {
        setInspection(found)
        setUsage(found.usage)
      })
      .catch(setError)
      .finally(() => setBusy(false))
  }
  const sign = (): void => {
    if (csr === null || inspection === null) return
    setBusy(true)
    setError(null)
    act('signCsr', { ...csr, usage: inspection.usage }).then(setIssued).catch(setError).finally(() => setBusy(false))
  }
  const reset = (): void => {
    setPasted('')
    setCsr(null)
    setInspection(null)
    setIssued(null)
    setError(null)
    setUsage('sign')
  }
  return (
    <Card withBorder>
      <Title order={4} mb="xs">{t('certificates.signTitle')}</Title>
      {issued !== null ? (
        <Alert color="green" title={t('certificates.issuedTitle')} data-testid="lab-issued">
          <Text size="sm">{t('certificates.issued', { subject: issued.subject, usage: t(`usage.${issued.usage}`), serial: issued.serial })}</Text>
          <Group mt="sm" gap="xs">
            <Button onClick={() => downloadCertificate(issued, 'pem')}>{t('certificates.downloadPemButton')}</Button>
            <Button variant="default" onClick={() => downloadCertificate(issued, 'der')}>{t('certificates.downloadDerButton')}</Button>
            <Button variant="subtle" onClick={reset}>{t('certificates.another')}</Button>
          </Group>
        </Alert>
      ) : (
        <Stack gap="sm" component="form" aria-label={t('certificates.signForm')} onSubmit={(e) => { e.preventDefault(); sign() }}>
          <Text size="sm">{t('certificates.signIntro')}</Text>
          <Group>
            <FileButton accept=".csr,.pem,.der,.p10,.req" onChange={(file) => void (file && readFileForUpload(file).then((read) => inspect(read)))}>
              {(props) => <Button variant="default" {...props}>{t('certificates.chooseCsr')}</Button>}
            </FileButton>
          </Group>
          <Textarea label={t('certificates.pasteLabel')} autosize minRows={3} maxRows={6} value={pasted} onChange={(e) => setPasted(e.currentTarget.value)} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} />
          <Group justify="flex-end"><Button variant="default" disabled={pasted.trim() === ''} loading={busy && inspection === null} onClick={() => inspect({ content: pasted, encoding: 'utf8' })}>{t('certificates.check')}</Button></Group>
          {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}
          {csr !== null ? (
            <Card withBorder bg="gray.0" data-testid="lab-csr-inspection">
              {inspection !== null ? (
                <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm" mb="sm">
                  <div><Text size="xs" c="dimmed">{t('certificates.requestedSubject')}</Text><Text size="sm">{inspection.requestedSubject}</Text></div>
                  <div><Text size="xs" c="dimmed">{t('certificates.certificateSubject')}</Text><Text size="sm" fw={600}>{inspection.subject}</Text></div>
                  <div><Text size="xs" c="dimmed">{t('certificates.keyAlgorithm')}</Text><Text size="sm">{inspection.keyAlgorithm}</Text></div>
                  <div>
                    <Text size="xs" c="dimmed">
                      {inspection.member !== null ? t('certificates.forMember', { member: idPath(inspection.member) }) : t('certificates.forServer', { serverCode: inspection.serverCode ?? '' })}
                    </Text>
                  </div>
                </SimpleGrid>
              ) : null}
              <Input.Label id="lab-csr-usage" display="block">{t('certificates.usageLabel')}</Input.Label>
              <SegmentedControl
                aria-labelledby="lab-csr-usage" value={inspection?.usage ?? usage} disabled={busy}
                onChange={(v) => {
                  setUsage(v as 'sign' | 'auth')
                  inspect(csr, v as 'sign' | 'auth')
                }}
                data={[{ value: 'sign', label: t('usage.sign') }, { value: 'auth', label: t('usage.auth') }]}
              />
              {inspection !== null ? <Text size="xs" c="dimmed" mt={4}>{t(`certificates.usageFrom.${inspection.usageFrom}`)}</Text> : null}
              <Group justify="flex-end" mt="sm"><Button type="submit" loading={busy && inspection !== null} disabled={inspection === null}>{t('certificates.signButton')}</Button></Group>
            </Card>
          ) : null}
        </Stack>
      )}
    </Card>
  )
}
