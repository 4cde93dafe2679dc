// @vitest-environment happy-dom
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { MantineProvider } from '@mantine/core'
import type { ClusterNodeDto, ClusterNodesDto } from '@shared/admin-api/admin-api'
import { AdminError, setAdminClient, type AdminClient } from '../../src-renderer/lib/admin-client'
import { ClusterNodesCard } from '../../src-renderer/features/cluster/ClusterNodesCard'
import { SecondaryBanner } from '../../src-renderer/features/cluster/SecondaryBanner'
import { SharedDatabase } from '../../src-renderer/features/cluster/SharedDatabase'
import { useClusterStore } from '../../src-renderer/features/cluster/cluster-store'
import { ConfirmAction } from '../../src-renderer/lib/ConfirmAction'
import { ConfigurationEdit, EditButton } from '../../src-renderer/lib/read-only'
import { localizeBackupError } from '../../src-renderer/features/settings/backup-store'

/** The cluster in the GUI (issue 18): the secondary's read-only banner and the dashboard's card of nodes. */
const node = (over: Partial<ClusterNodeDto>): ClusterNodeDto => ({
  name: 'ss-a', role: 'primary', version: '1.0.0', addresses: [], startedAt: '2026-12-06T20:00:00.000Z', heartbeatAt: '2026-12-06T22:00:00.000Z',
  alive: true, self: false, readiness: { ready: true, failing: [] },
  messageLog: { acceptingMessages: true, unstampedRecords: false, lastTimestampAt: '2026-12-06T21:59:00.000Z', timestampingFailingSince: null },
  ...over,
})

function fakeCluster(dto: ClusterNodesDto, forget: (input: unknown) => Promise<void> = async () => undefined) {
  const call = vi.fn(async (domain: string, method: string, input?: unknown) => {
    if (`${domain}.${method}` === 'system.clusterNodes') return dto
    if (`${domain}.${method}` === 'system.forgetClusterNode') return forget(input)
    throw new Error(`unexpected ${domain}.${method}`)
  })
  const fail = async (): Promise<never> => {
    throw new AdminError('unsupported', 'not in this test')
  }
  setAdminClient({ transport: 'browser', session: fail, login: fail, setup: fail, logout: fail, call: call as AdminClient['call'] })
  return call
}

const CLUSTER: ClusterNodesDto = {
  nodeType: 'SECONDARY', heartbeatSeconds: 2, staleAfterSeconds: 6,
  changeFeed: { state: 'listening', since: '2026-12-06T20:00:00.000Z', lastError: null, reconnects: 0 },
  nodes: [
    node({ name: 'ss-a' }),
    node({ name: 'ss-b', role: 'secondary', self: true, readiness: { ready: false, failing: ['authentication', 'timestamping'] } }),
    node({ name: 'ss-c', role: 'secondary', alive: false, messageLog: { acceptingMessages: false, unstampedRecords: true, lastTimestampAt: null, timestampingFailingSince: '2026-12-06T21:00:00.000Z' } }),
  ],
}

beforeAll(() => {
  if (!('fonts' in document)) Object.defineProperty(document, 'fonts', { configurable: true, value: { addEventListener: () => undefined, removeEventListener: () => undefined } })
})

afterEach(() => {
  cleanup()
  setAdminClient(undefined)
  useClusterStore.setState({ cluster: null, error: null })
})

describe('cluster in the GUI', () => {
  it('shows a secondary node that its configuration is read-only here, naming the node', async () => {
    fakeCluster(CLUSTER)
    render(<MantineProvider><SecondaryBanner /></MantineProvider>)
    const banner = await screen.findByTestId('secondary-banner')
    expect(banner.textContent).toContain('You are on a secondary node (ss-b) of a security server cluster')
  })

  it('shows no banner on a primary or a standalone server, and no card when standalone', async () => {
    fakeCluster({ ...CLUSTER, nodeType: 'PRIMARY' })
    render(<MantineProvider><SecondaryBanner /><ClusterNodesCard /></MantineProvider>)
    expect(await screen.findByRole('table', { name: 'Cluster nodes' })).toBeTruthy()
    expect(screen.queryByTestId('secondary-banner')).toBeNull()
    cleanup()
    fakeCluster({ nodeType: 'STANDALONE', heartbeatSeconds: 0, staleAfterSeconds: 0, nodes: [], changeFeed: null })
    render(<MantineProvider><SecondaryBanner /><ClusterNodesCard /></MantineProvider>)
    await vi.waitFor(() => expect(useClusterStore.getState().cluster?.nodeType).toBe('STANDALONE'))
    expect(screen.queryByText('Cluster nodes')).toBeNull()
    expect(screen.queryByTestId('secondary-banner')).toBeNull()
  })

  it('lists every node: role, alive or stale, readiness with what fails, and its message log', async () => {
    fakeCluster({ ...CLUSTER, nodeType: 'PRIMARY' })
    render(<MantineProvider><ClusterNodesCard /></MantineProvider>)
    expect(await screen.findByText('3 nodes share this server\'s configuration')).toBeTruthy()
    expect(screen.getByTestId('change-feed').textContent).toBe('Changes from the other nodes arrive as they are made.')
    const a = within(screen.getByTestId('cluster-node-ss-a'))
    expect(a.getByText('Primary')).toBeTruthy()
    expect(a.getByText('Alive')).toBeTruthy()
    expect(a.getByText('Ready')).toBeTruthy()
    expect(a.getByText('Accepting')).toBeTruthy()
    const b = within(screen.getByTestId('cluster-node-ss-b'))
    expect(b.getByText('this node · 1.0.0')).toBeTruthy()
    expect(b.getByText('Not ready')).toBeTruthy()
    expect(b.getByText('Failing: Authentication certificate, Time-stamping')).toBeTruthy()
    const c = within(screen.getByTestId('cluster-node-ss-c'))
    expect(c.getByText('Stale')).toBeTruthy()
    expect(c.getByText('No heartbeat for more than 6 s: stopped, or cut off from the database.')).toBeTruthy()
    expect(c.getByText('Refusing messages')).toBeTruthy()
    expect(c.getByText('no time-stamp yet')).toBeTruthy()
  })

  it('says when the changes of the other nodes are not arriving', async () => {
    fakeCluster({ ...CLUSTER, changeFeed: { state: 'reconnecting', since: '2026-12-06T22:00:00.000Z', lastError: 'connection refused', reconnects: 2 } })
    render(<MantineProvider><ClusterNodesCard /></MantineProvider>)
    expect((await screen.findByTestId('change-feed')).textContent).toContain('Changes from the other nodes are not arriving (connection refused): reconnecting')
  })

  it('hides the shared configuration\'s edit actions on a secondary node and keeps the node\'s own', async () => {
    const page = (
      <MantineProvider>
        <EditButton>Add client</EditButton>
        <ConfigurationEdit><form aria-label="Add local group" /></ConfigurationEdit>
        <ConfirmAction label="Delete key" title="Delete key" consequences="gone" confirmLabel="Delete" onConfirm={async () => undefined} />
        <ConfirmAction perNode label="Remove user" title="Remove user" consequences="gone" confirmLabel="Remove" onConfirm={async () => undefined} />
      </MantineProvider>
    )
    for (const nodeType of ['PRIMARY', 'STANDALONE'] as const) {
      useClusterStore.setState({ cluster: { ...CLUSTER, nodeType } })
      render(page)
      expect(screen.getByRole('button', { name: 'Add client' })).toBeTruthy()
      expect(screen.getByRole('form', { name: 'Add local group' })).toBeTruthy()
      expect(screen.getByRole('button', { name: 'Delete key' })).toBeTruthy()
      expect(screen.getByRole('button', { name: 'Remove user' })).toBeTruthy()
      cleanup()
    }
    useClusterStore.setState({ cluster: CLUSTER })
    render(page)
    expect(screen.queryByRole('button', { name: 'Add client' })).toBeNull()
    expect(screen.queryByRole('form', { name: 'Add local group' })).toBeNull()
    expect(screen.queryByRole('button', { name: 'Delete key' })).toBeNull()
    expect(screen.getByRole('button', { name: 'Remove user' })).toBeTruthy()
  })

  it('words the refusal of a backup or restore on a cluster node, naming PostgreSQL\'s tools', () => {
    const refused = localizeBackupError(new AdminError('unsupported', 'This node is in a cluster', 'cluster'))
    expect(refused instanceof AdminError ? refused.message : refused).toContain('Back it up with pg_dump and restore it with pg_restore')
  })

  it('shows the shared PostgreSQL database: where, reachable or why not, and its schema versions', () => {
    const where = { host: 'db.example', port: 5432, database: 'gatehouse', user: 'gh', schema: 'conf' }
    render(<MantineProvider><SharedDatabase database={{ ...where, reachable: true, problem: null, versions: [{ component: 'server-conf', version: 7 }] }} /></MantineProvider>)
    const card = within(screen.getByTestId('shared-database'))
    expect(card.getByText('Shared configuration (PostgreSQL)')).toBeTruthy()
    expect(card.getByText('db.example:5432/gatehouse')).toBeTruthy()
    expect(card.getByText('Schema conf · user gh')).toBeTruthy()
    expect(card.getByText('Reachable')).toBeTruthy()
    expect(card.getByText('Schema versions: server-conf v7')).toBeTruthy()
    cleanup()
    render(<MantineProvider><SharedDatabase database={{ ...where, reachable: false, problem: 'Cannot connect to postgresql://gh@db.example:5432/gatehouse', versions: [] }} /></MantineProvider>)
    expect(screen.getByText('Not reachable')).toBeTruthy()
    expect(screen.getByText('Cannot connect to postgresql://gh@db.example:5432/gatehouse')).toBeTruthy()
    expect(screen.queryByText(/Schema versions/)).toBeNull()
  })

  it('forgets a stale node on the primary, behind a confirmation, and words a refusal', async () => {
    const call = fakeCluster({ ...CLUSTER, nodeType: 'PRIMARY' })
    render(<MantineProvider><ClusterNodesCard /></MantineProvider>)
    fireEvent.click(await screen.findByRole('button', { name: 'Forget node ss-c' }))
    // Only the stale node that is not this one.
    expect(screen.queryByRole('button', { name: 'Forget node ss-a' })).toBeNull()
    expect(screen.queryByRole('button', { name: 'Forget node ss-b' })).toBeNull()
    const dialog = await screen.findByRole('dialog', { name: 'Forget node ss-c?' })
    expect(dialog.textContent).toContain('If ss-c starts again on this database, it reports itself and is listed again.')
    fireEvent.click(within(dialog).getByRole('button', { name: 'Forget node' }))
    await vi.waitFor(() => expect(call).toHaveBeenCalledWith('system', 'forgetClusterNode', { name: 'ss-c' }))
    await vi.waitFor(() => expect(call.mock.calls.filter((c) => c[1] === 'clusterNodes').length).toBe(2))
    cleanup()
    fakeCluster({ ...CLUSTER, nodeType: 'PRIMARY' }, async () => {
      throw new AdminError('action_not_possible', 'ss-c sent a heartbeat', 'alive')
    })
    render(<MantineProvider><ClusterNodesCard /></MantineProvider>)
    fireEvent.click(await screen.findByRole('button', { name: 'Forget node ss-c' }))
    fireEvent.click(within(await screen.findByRole('dialog', { name: 'Forget node ss-c?' })).getByRole('button', { name: 'Forget node' }))
    expect(await screen.findByText('ss-c has sent a heartbeat again: stop it before forgetting it.')).toBeTruthy()
  })

  it('offers no forgetting on a secondary node', async () => {
    fakeCluster(CLUSTER)
    render(<MantineProvider><ClusterNodesCard /></MantineProvider>)
    await screen.findByTestId('cluster-node-ss-c')
    expect(screen.queryByRole('button', { name: /^Forget/ })).toBeNull()
  })
})
