import { useEffect } from 'react'
import { Alert } from '@mantine/core'
import { useT } from '../../i18n'
import { useClusterStore } from './cluster-store'

/**
 * On a cluster's secondary node, above every page: the configuration shown is read-only here. Its edit actions are
 * hidden, as X-Road's secondaries hide them (`lib/read-only.tsx`), and the server refuses them anyway with
 * `secondary_node_read_only`. Asking for the cluster here, once per shell, is what tells `useReadOnly` the node type.
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
