import { useEffect } from 'react'
import { Alert } from '@mantine/core'
import { useT } from '../../i18n'
import { useClusterStore } from './cluster-store'

/**
 * On a cluster's secondary node, above every page: the configuration shown is read-only here (X-Road's secondaries
 * hide edits; Gatehouse shows them and the server refuses them with `secondary_node_read_only`, worded where tried).
 */
export function SecondaryBanner() {
  const t = useT('cluster')
  const { cluster, refresh } = useClusterStore()
  useEffect(() => {
    void refresh()
  }, [refresh])
  if (cluster?.nodeType !== 'SECONDARY') return null
  const self = cluster.nodes.find((n) => n.self)?.name ?? ''
  return (
    <Alert color="yellow" variant="light" title={t('banner.title')} mb="md" role="status" data-testid="secondary-banner">
      {t('banner.text', { node: self })}
    </Alert>
  )
}
