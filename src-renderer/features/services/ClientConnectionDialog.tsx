import { useEffect, useState } from 'react'
import { Button, Code, FileButton, Group, Modal, Radio, Stack, Table, Text, Title } from '@mantine/core'
import { IS_AUTHENTICATION_VALUES, type ClientDto, type InternalTlsCertificateDto, type IsAuthenticationValue } from '@shared/admin-api/admin-api'
import { formatDateTime, useT } from '../../i18n'
import { ConfirmAction } from '../../lib/ConfirmAction'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { readFileForUpload, saveFile } from '../../lib/save-file'
import { fieldMessage } from './ServicesParts'
import { useServicesStore } from './services-store'
import { EditButton } from '../../lib/read-only'

/**
 * How a client's information systems connect to this server's client proxy (UG-SS §9): HTTP, HTTPS, or HTTPS with
 * a client certificate the server knows; the IS certificates; and this server's own TLS certificate for the IS to trust.
 */
export function ClientConnectionDialog({ client, onClose }: { client: ClientDto; onClose(): void }) {
  const t = useT('services', 'common')
  const s = useServicesStore()
  const { loadIsCertificates } = s
  const certificates = s.isCertificates[client.id] ?? []
  const [error, setError] = useState<unknown>(null)
  const [uploadError, setUploadError] = useState<unknown>(null)
  const [saving, setSaving] = useState(false)
  const [internal, setInternal] = useState<InternalTlsCertificateDto | null>(null)

  useEffect(() => {
    loadIsCertificates(client.id).catch(setError)
  }, [client.id, loadIsCertificates])

  // Shown at once; back to the stored value if the server refuses.
  const [mode, setModeShown] = useState<IsAuthenticationValue>(client.isAuthentication)
  const setMode = (value: string): void => {
    setModeShown(value as IsAuthenticationValue)
    setSaving(true)
    setError(null)
    s.setIsAuthentication(client.id, value as IsAuthenticationValue)
      .catch((failure: unknown) => {
        setModeShown(client.isAuthentication)
        setError(failure)
      })
      .finally(() => setSaving(false))
  }
  const upload = (file: File | null): void => {
    if (file === null) return
    setUploadError(null)
    readFileForUpload(file).then((content) => s.addIsCertificate(client.id, content)).catch(setUploadError)
  }
  const showInternal = (): void => {
    setError(null)
    s.internalTlsCertificate().then(setInternal).catch(setError)
  }

  return (
    <Modal opened onClose={onClose} size="lg" title={t('connection.title', { client: client.path })}>
      <Stack gap="md">
        <Radio.Group label={t('connection.type')} value={mode} onChange={setMode}>
          <Stack gap="xs" mt="xs">
            {IS_AUTHENTICATION_VALUES.map((mode) => (
              <Radio key={mode} value={mode} disabled={saving} label={t(`connection.mode.${mode}`)} description={t(`connection.modeHint.${mode}`)} />
            ))}
          </Stack>
        </Radio.Group>
        {error !== null ? <ErrorNotice error={error} onClose={() => setError(null)} /> : null}

        <div>
          <Title order={5}>{t('connection.certificates')}</Title>
          <Text size="xs" c="dimmed">{t('connection.certificatesHint')}</Text>
        </div>
        {certificates.length === 0 ? <Text size="sm" c="dimmed">{t('connection.noCertificates')}</Text> : (
          <Table.ScrollContainer minWidth={480}>
            <Table aria-label={t('connection.certificates')} verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr><Table.Th>{t('connection.subject')}</Table.Th><Table.Th>{t('connection.validUntil')}</Table.Th><Table.Th><span className="sr-only">{t('actionsColumn')}</span></Table.Th></Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {certificates.map((c) => (
                  <Table.Tr key={c.sha256}>
                    <Table.Td>
                      <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{c.subject ?? t('connection.unreadable')}</Text>
                      <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }}>{`SHA-256 ${c.sha256}`}</Text>
                    </Table.Td>
                    <Table.Td><Text size="sm">{c.notAfter === null ? '–' : formatDateTime(c.notAfter, { dateStyle: 'medium' })}</Text></Table.Td>
                    <Table.Td>
                      <ConfirmAction
                        label={t('common:actions.delete')}
                        ariaLabel={t('connection.deleteAria', { subject: c.subject ?? c.sha256 })}
                        title={t('connection.deleteTitle')}
                        consequences={<Text size="sm">{t('connection.deleteBody', { client: client.path })}</Text>}
                        confirmLabel={t('connection.deleteConfirm')}
                        onConfirm={() => s.removeIsCertificate(client.id, c.sha256)}
                      />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Group>
          <FileButton onChange={upload} accept=".pem,.crt,.cer,.der,application/x-pem-file,application/pkix-cert">
            {(props) => <EditButton variant="light" size="sm" {...props}>{t('connection.upload')}</EditButton>}
          </FileButton>
        </Group>
        {fieldMessage(uploadError, 'content') !== undefined ? <Text size="sm" c="red" role="alert">{fieldMessage(uploadError, 'content')}</Text>
          : uploadError !== null ? <ErrorNotice error={uploadError} onClose={() => setUploadError(null)} /> : null}

        <div>
          <Title order={5}>{t('connection.internal')}</Title>
          <Text size="xs" c="dimmed">{t('connection.internalHint')}</Text>
        </div>
        {internal === null ? (
          <Group><Button variant="default" size="sm" onClick={showInternal}>{t('connection.showInternal')}</Button></Group>
        ) : (
          <Stack gap={4}>
            <Text size="sm" style={{ overflowWrap: 'anywhere' }}>{internal.subject}</Text>
            <Text size="xs" c="dimmed">{t('connection.fingerprint')}</Text>
            <Code block style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }} data-testid="internal-tls-sha256">{internal.sha256}</Code>
            <Group>
              <Button size="sm" onClick={() => saveFile(internal.fileName, 'application/x-pem-file', internal.pem, 'utf8')}>{t('connection.download')}</Button>
            </Group>
          </Stack>
        )}
        <Group justify="flex-end"><Button variant="default" onClick={onClose}>{t('common:actions.close')}</Button></Group>
      </Stack>
    </Modal>
  )
}
