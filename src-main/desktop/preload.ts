/**
 * The preload (sandboxed): exposes exactly the allow-listed admin methods as `window.admin.<domain>.<method>`,
 * each a typed `ipcRenderer.invoke` of `<domain>:<method>` resolving to an IpcResult. No raw ipcRenderer, no
 * generic invoke (reliability-and-security.md §3.4); plus the server's event stream and alert notifications.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { ADMIN_API_METHODS, adminChannel, type AdminDomain } from '@shared/admin-api/admin-api-methods'
import type { DesktopAdminBridge } from '@shared/admin-api/desktop-bridge'
import { DESKTOP_NOTIFY_CHANNEL, SERVER_EVENT_CHANNEL, isServerEventName, type ServerEvent } from '@shared/server-events'

function buildBridge(): DesktopAdminBridge {
  const bridge: Record<string, unknown> = {
    transport: 'desktop',
    session: () => ipcRenderer.invoke('session:info'),
    // The server's events, each checked to be one of ours before it reaches the page; returns the unsubscribe.
    subscribe(listener: (event: ServerEvent) => void) {
      const handler = (_event: unknown, message: unknown): void => {
        const { name } = (message ?? {}) as { name?: unknown }
        if (isServerEventName(name)) listener(message as ServerEvent)
      }
      ipcRenderer.on(SERVER_EVENT_CHANNEL, handler)
      return () => {
        ipcRenderer.removeListener(SERVER_EVENT_CHANNEL, handler)
      }
    },
    notify: (input: { title: string; body: string }) => ipcRenderer.invoke(DESKTOP_NOTIFY_CHANNEL, input),
  }
  for (const domain of Object.keys(ADMIN_API_METHODS) as AdminDomain[]) {
    const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {}
    for (const method of Object.keys(ADMIN_API_METHODS[domain])) {
      const channel = adminChannel(domain, method)
      methods[method] = (...args: unknown[]) => ipcRenderer.invoke(channel, ...args)
    }
    bridge[domain] = Object.freeze(methods)
  }
  return Object.freeze(bridge) as unknown as DesktopAdminBridge
}

contextBridge.exposeInMainWorld('admin', buildBridge())
