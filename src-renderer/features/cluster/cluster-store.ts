import { create } from 'zustand'
import type { ClusterNodesDto } from '@shared/admin-api/admin-api'
import { adminClient } from '../../lib/admin-client'

/** This node's type and the cluster's nodes (issue 18); STANDALONE with no nodes outside a cluster. */
interface ClusterState {
  cluster: ClusterNodesDto | null
  error: unknown
  refresh(): Promise<void>
}

export const useClusterStore = create<ClusterState>((set) => ({
  cluster: null,
  error: null,
  async refresh() {
    try {
      set({ cluster: await adminClient().call('system', 'clusterNodes'), error: null })
    } catch (error) {
      set({ error })
    }
  },
}))
