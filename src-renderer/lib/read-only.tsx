import type { ComponentPropsWithoutRef, ReactNode } from 'react'
import { Button, type ButtonProps } from '@mantine/core'
import { useClusterStore } from '../features/cluster/cluster-store'

/**
 * The one switch for a cluster's secondary node (issue 18): the shared configuration is read-only there, so its edit
 * actions are hidden, as X-Road's secondaries hide them (the server refuses them anyway with
 * `secondary_node_read_only`). Actions on the node's own state (token login, maintenance, message log, users) stay.
 * The node's type comes from the cluster store, asked once by the shell (`SecondaryBanner`) on every page.
 */
export function useReadOnly(): boolean {
  return useClusterStore((s) => s.cluster?.nodeType === 'SECONDARY')
}

/** Edit actions of the shared configuration (buttons, add forms): rendered only where the configuration can be changed. */
export function ConfigurationEdit({ children }: { children: ReactNode }) {
  return useReadOnly() ? null : <>{children}</>
}

/** A button that changes the shared configuration: not shown on a cluster's secondary node. */
export function EditButton(props: ButtonProps & ComponentPropsWithoutRef<'button'>) {
  return useReadOnly() ? null : <Button {...props} />
}
