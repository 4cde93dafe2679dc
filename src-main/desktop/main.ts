/**
 * Electron entry (out/main/desktop.js): hands the Electron modules to the desktop app. Kept thin so everything
 * else is testable with `electron` mocked.
 */
import { app, BrowserWindow, dialog, ipcMain, Notification, protocol, session, shell } from 'electron'
import { startDesktop } from './desktop-app'

startDesktop({ app, BrowserWindow, ipcMain, protocol, session, shell, Notification }, { bundleDir: __dirname }).catch((error: unknown) => {
  dialog.showErrorBox('Gatehouse could not start', error instanceof Error ? error.message : String(error))
  app.exit(1)
})
