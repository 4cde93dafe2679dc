import { userInfo } from 'node:os'
import { join } from 'node:path'
import type * as Electron from 'electron'
import { ADMIN_ROLES } from '@shared/admin-api/admin-roles'
import { createLogger } from '../platform'
import { createSecurityServer, loadServerConfig, superviseSecurityServer, type SecurityServer, type Supervisor } from '../server'
import type { AdminService } from '../admin'
import { SERVER_EVENT_CHANNEL } from '@shared/server-events'
import { registerAdminIpc, registerNotificationIpc } from './admin-ipc'
import { serveAppRequest } from './app-protocol'
import { APP_ENTRY, APP_SCHEME, hardenSession, hardenWebContents, windowOptions } from './window-security'

/**
 * The desktop app: starts the security server in the main process, registers the admin IPC and opens one
 * hardened window on app://gatehouse/. The operating-system user who runs the app holds every role
 * (the desktop counterpart of X-Road's PAM login, UG-SS §2).
 */
export type ElectronModule = Pick<typeof Electron, 'app' | 'BrowserWindow' | 'ipcMain' | 'protocol' | 'session' | 'shell' | 'Notification'>

export interface DesktopPaths {
  /** out/main (the bundle's folder): preload and renderer are its siblings. */
  bundleDir: string
}

export async function startDesktop(electron: ElectronModule, paths: DesktopPaths): Promise<{ supervisor: Supervisor; window: Electron.BrowserWindow }> {
  const { app, BrowserWindow, ipcMain, protocol, session, shell, Notification } = electron
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }])
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, shell))
  await app.whenReady()

  const dataDir = process.env.GATEHOUSE_DATA_DIR ?? join(app.getPath('userData'), 'data')
  const configFile = process.env.GATEHOUSE_CONFIG
  const logger = createLogger({ level: loadServerConfig(dataDir, configFile).logging.level })
  const rendererDir = join(paths.bundleDir, '../renderer')
  // The server's events go to the window over IPC (the GUI's stores refresh on them); a restart brings a new server,
  // whose events are followed from then on.
  const opened: { window?: Electron.BrowserWindow } = {}
  let unfollow: (() => void) | undefined
  const follow = (server: { subscribe: SecurityServer['subscribe'] }): void => {
    unfollow?.()
    unfollow = server.subscribe((event) => {
      const { window } = opened
      if (window !== undefined && !window.isDestroyed()) window.webContents.send(SERVER_EVENT_CHANNEL, event)
    })
  }
  // Tokens start logged out, as on any server after a reboot: the GUI logs them in and the runtime starts serving.
  const supervisor = await superviseSecurityServer({
    logger,
    loadConfig: () => loadServerConfig(dataDir, configFile),
    create: (config, restart) => createSecurityServer({ dataDir, config, configFile, logger, rendererDir, restart }),
    onStarted: (server) => follow(server),
  })

  protocol.handle(APP_SCHEME, (request) => serveAppRequest(rendererDir, request.url))
  hardenSession(session.defaultSession)
  // The IPC reaches whichever server runs now: a restart from the GUI replaces it.
  const admin: Pick<AdminService, 'call'> = { call: (...args) => supervisor.current().admin.call(...args) }
  registerAdminIpc(ipcMain, admin, { actor: `desktop:${userInfo().username}`, roles: ADMIN_ROLES })
  // Alerts as system notifications, worded by the GUI in the user's language; a click brings the window forward.
  registerNotificationIpc(ipcMain, {
    notify(title, body) {
      if (!Notification.isSupported()) return
      const notification = new Notification({ title, body })
      notification.on('click', () => {
        const { window } = opened
        if (window === undefined || window.isDestroyed()) return
        if (window.isMinimized()) window.restore()
        window.show()
        window.focus()
      })
      notification.show()
    },
  })

  const shown = new BrowserWindow(windowOptions(join(paths.bundleDir, '../preload/preload.js')))
  opened.window = shown
  shown.once('ready-to-show', () => shown.show())
  await shown.loadURL(APP_ENTRY)

  let quitting = false
  app.on('before-quit', (event) => {
    if (quitting) return
    event.preventDefault()
    quitting = true
    supervisor
      .stop()
      .catch((error: unknown) => logger.error({ err: error }, 'error while stopping'))
      .finally(() => app.quit())
  })
  app.on('window-all-closed', () => app.quit())
  return { supervisor, window: shown }
}
