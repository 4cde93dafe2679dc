/**
 * The preload (sandboxed): exposes exactly the allow-listed admin methods as `window.admin.<domain>.<method>`,
 * each a typed `ipcRenderer.invoke` of `<domain>:<method>` resolving to an IpcResult. No raw ipcRenderer, no
 * generic invoke (reliability-and-security.md §3.4).
 */
import { contextBridge, ipcRenderer } from 'electron'
import { ADMIN_API_METHODS, adminChannel, type AdminDomain } from '@shared/admin-api/admin-api-methods'
import type { DesktopAdminBridge } from '@shared/admin-api/desktop-bridge'

function buildBridge(): DesktopAdminBridge {
  const bridge: Record<string, unknown> = {
    transport: 'desktop',
    session: () => ipcRenderer.invoke('session:info'),
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
