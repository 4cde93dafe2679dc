import audit from './locales/en/audit.json'
import backup from './locales/en/backup.json'
import ceremony from './locales/en/ceremony.json'
import cluster from './locales/en/cluster.json'
import common from './locales/en/common.json'
import dashboard from './locales/en/dashboard.json'
import diagnostics from './locales/en/diagnostics.json'
import errors from './locales/en/errors.json'
import firstRun from './locales/en/firstRun.json'
import globalConf from './locales/en/globalConf.json'
import keys from './locales/en/keys.json'
import lab from './locales/en/lab.json'
import login from './locales/en/login.json'
import messageLog from './locales/en/messageLog.json'
import operations from './locales/en/operations.json'
import services from './locales/en/services.json'
import settings from './locales/en/settings.json'
import users from './locales/en/users.json'

/**
 * The message catalogues. English is imported by name so the compiler knows every key (a typo in `t('…')` does not
 * type-check); the other languages are found by file name. Adding a namespace: `locales/<language>/<ns>.json` in
 * every language and one import line here.
 */
export const EN = {
  audit, backup, ceremony, cluster, common, dashboard, diagnostics, errors, firstRun, globalConf, keys, lab, login, messageLog, operations, services, settings, users,
} as const

export type Namespace = keyof typeof EN
export const DEFAULT_NAMESPACE: Namespace = 'common'

type Catalog = Record<string, unknown>
const files = import.meta.glob<Catalog>('./locales/*/*.json', { eager: true, import: 'default' })

function catalogsOf(language: string): Record<string, Catalog> {
  const out: Record<string, Catalog> = {}
  for (const [path, catalog] of Object.entries(files)) {
    const match = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path)
    if (match !== null && match[1] === language) out[match[2] as string] = catalog
  }
  return out
}

export const CATALOGS: Record<'en' | 'pt-BR' | 'es', Record<string, Catalog>> = {
  en: EN as unknown as Record<string, Catalog>,
  'pt-BR': catalogsOf('pt-BR'),
  es: catalogsOf('es'),
}
