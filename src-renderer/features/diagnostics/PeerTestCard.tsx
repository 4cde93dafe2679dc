import { useEffect, useState } from 'react'
import { Button, Card, Group, SegmentedControl, Select, SimpleGrid, Stack, Text, Title } from '@mantine/core'
import type { PeerTestMethod } from '@shared/admin-api/admin-api'
import { useT } from '../../i18n'
import { ErrorNotice } from '../../lib/ErrorNotice'
import { fieldError, isFieldError } from '../../lib/field-error'
import { useDiagnosticsStore } from './diagnostics-store'
import { ProbeResultView } from './ProbeResultView'

/**
 * A test call to a chosen provider through this server's own client proxy: a REST metaservice (PR-MREST
 * `listMethods`/`allowedMethods`), with the network path and each step of the exchange timed.
 */
export function PeerTestCard() {
  const t = useT('diagnostics')
  const { targets, peer, calling, peerError, loadTargets, testCall } = useDiagnosticsStore()
  const [client, setClient] = useState<string | null>(null)
  const [provider, setProvider] = useState<string | null>(null)
  const [method, setMethod] = useState<PeerTestMethod>('listMethods')
  useEffect(() => {
    void loadTargets()
  }, [loadTargets])
  useEffect(() => {
    if (targets === null) return
    setClient((c) => c ?? targets.clients.find((id) => id.split('/').length === 4) ?? targets.clients[0] ?? null)
    setProvider((p) => p ?? targets.providers.find((x) => !targets.clients.includes(x.id))?.id ?? targets.providers[0]?.id ?? null)
  }, [targets])
  const ready = client !== null && provider !== null
  return (
    <Card withBorder data-testid="peer-test">
      <Title order={4}>{t('peer.title')}</Title>
      <Text size="sm" c="dimmed" mb="sm">{t('peer.hint')}</Text>
      {targets !== null && (targets.clients.length === 0 || targets.providers.length === 0) ? (
        <Text size="sm" c="dimmed">{t('peer.noTargets')}</Text>
      ) : (
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <Select
              label={t('peer.client')} data={targets?.clients ?? []} value={client} onChange={setClient} allowDeselect={false} searchable
              error={fieldError(peerError, 'client')}
            />
            <Select
              label={t('peer.provider')} data={(targets?.providers ?? []).map((p) => ({ value: p.id, label: `${p.id} (${p.name})` }))} value={provider}
              onChange={setProvider} allowDeselect={false} searchable error={fieldError(peerError, 'provider')}
            />
          </SimpleGrid>
          <Group justify="space-between" align="flex-end" wrap="wrap">
            <div>
              <Text size="sm" fw={500} mb={4}>{t('peer.method')}</Text>
              <SegmentedControl
                aria-label={t('peer.method')} value={method} onChange={(v) => setMethod(v as PeerTestMethod)}
                data={(targets?.methods ?? ['listMethods', 'allowedMethods']).map((m) => ({ value: m, label: m }))}
              />
            </div>
            <Button disabled={!ready} loading={calling} onClick={() => ready && void testCall({ client, provider, method })}>{t('peer.send')}</Button>
          </Group>
        </Stack>
      )}
      {peerError && !isFieldError(peerError, ['client', 'provider']) ? <ErrorNotice error={peerError} /> : null}
      {peer !== null ? <div style={{ marginTop: 'var(--mantine-spacing-sm)' }}><ProbeResultView result={peer} /></div> : null}
    </Card>
  )
}
