import type { DesktopAdminBridge } from '@shared/admin-api/desktop-bridge'

declare global {
  interface Window {
    /** Set by the desktop preload; absent in a browser, where the client uses the HTTPS API. */
    admin?: DesktopAdminBridge
  }
}

export {}
