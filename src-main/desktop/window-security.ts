import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron'

/**
 * The Electron security checklist (electron docs tutorial/security.md, reliability-and-security.md §3.1) applied
 * to our one window: isolation and sandbox, no navigation or new windows, permissions denied, a strict CSP,
 * content only from our own `app://` protocol, and `openExternal` only for allow-listed https links.
 */
export const APP_SCHEME = 'app'
export const APP_HOST = 'gatehouse'
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`
export const APP_ENTRY = `${APP_ORIGIN}/index.html`

/** Checklist #7: the same policy as the admin HTTP listener, without network access beyond our origin. */
export const DESKTOP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

/** Hosts whose https pages the GUI may open in the system browser (documentation links). */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['docs.x-road.global', 'x-road.global', 'github.com', 'nordic-institute.github.io']

export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Gatehouse',
    backgroundColor: '#f8f9fa',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true, // checklist #3
      sandbox: true, // checklist #4
      nodeIntegration: false, // checklist #2
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false, // CVE-2022-29247
      webSecurity: true, // checklist #6
      allowRunningInsecureContent: false, // checklist #8
      experimentalFeatures: false, // checklist #9
      webviewTag: false, // checklist #11, #12
      spellcheck: false,
      devTools: process.env.GATEHOUSE_DEVTOOLS === '1',
    },
  }
}

/** True only for a URL on our own app:// origin (compare origins, never prefixes: checklist #13). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url)
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST
  } catch {
    return false
  }
}

/** Checklist #15: only https links to allow-listed hosts, no credentials, default port. */
export function isAllowedExternalUrl(url: string): boolean {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' && parsed.username === '' && parsed.password === '' && parsed.port === '' && EXTERNAL_LINK_HOSTS.includes(parsed.hostname)
  } catch {
    return false
  }
}

export interface ExternalOpener {
  openExternal(url: string): Promise<void>
}

/** Checklist #13, #14, #12: no navigation away, no new windows (allow-listed links go to the browser), no webviews. */
export function hardenWebContents(contents: WebContents, shell: ExternalOpener): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault()
  })
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalUrl(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
}

/** Checklist #5 and #7: deny every permission, add the CSP header to every response. */
export function hardenSession(ses: Session): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  ses.setPermissionCheckHandler(() => false)
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DESKTOP_CSP], 'X-Content-Type-Options': ['nosniff'] } })
  })
}
