import i18next, { type TOptions } from 'i18next'
import { initReactI18next, useTranslation } from 'react-i18next'
import { CATALOGS, DEFAULT_NAMESPACE, type Namespace } from './resources'

/**
 * The GUI's languages: every string on screen comes from a message catalogue (`locales/<language>/<namespace>.json`),
 * one namespace per feature. English, Brazilian Portuguese and Spanish ship; the choice is remembered in this browser
 * (or desktop profile). Plurals follow each language's CLDR rules (`key_one`, `key_many`, `key_other`), dates and
 * numbers are formatted with `Intl` for the language shown.
 */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'pt-BR', name: 'Português (Brasil)' },
  { code: 'es', name: 'Español' },
] as const
export type LanguageCode = (typeof LANGUAGES)[number]['code']

export const LANGUAGE_STORAGE_KEY = 'gatehouse.language'

const isLanguage = (value: unknown): value is LanguageCode => LANGUAGES.some((l) => l.code === value)

/** The stored choice, else the first browser language we ship (any Portuguese → pt-BR, any Spanish → es), else English. */
export function detectLanguage(stored: string | null, preferred: readonly string[]): LanguageCode {
  if (isLanguage(stored)) return stored
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0]
    if (base === 'pt') return 'pt-BR'
    if (base === 'es') return 'es'
    if (base === 'en') return 'en'
  }
  return 'en'
}

function storedLanguage(): string | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage.getItem(LANGUAGE_STORAGE_KEY)
  } catch {
    return null
  }
}

const initial = detectLanguage(storedLanguage(), typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language])

void i18next.use(initReactI18next).init({
  resources: CATALOGS,
  lng: initial,
  fallbackLng: 'en',
  supportedLngs: LANGUAGES.map((l) => l.code),
  ns: Object.keys(CATALOGS.en),
  defaultNS: DEFAULT_NAMESPACE,
  // Catalogues are bundled: initialise synchronously so the first render is already translated.
  initAsync: false,
  interpolation: { escapeValue: false },
  returnNull: false,
})
setDocumentLanguage(initial)

function setDocumentLanguage(code: LanguageCode): void {
  if (typeof document !== 'undefined') document.documentElement.lang = code
}

export function currentLanguage(): LanguageCode {
  return isLanguage(i18next.language) ? i18next.language : 'en'
}

/** Switches the language everywhere at once and remembers it. */
export async function setLanguage(code: LanguageCode): Promise<void> {
  try {
    localStorage.setItem(LANGUAGE_STORAGE_KEY, code)
  } catch {
    // A profile without storage still switches for this session.
  }
  await i18next.changeLanguage(code)
  setDocumentLanguage(code)
}

/** `t` for one or more namespaces (the first is the default for unprefixed keys); re-renders on a language switch. */
export function useT<const N extends readonly [Namespace, ...Namespace[]] | []>(...namespaces: N) {
  return useTranslation((namespaces.length === 0 ? DEFAULT_NAMESPACE : namespaces) as N extends [] ? typeof DEFAULT_NAMESPACE : N).t
}

/**
 * Translation by a key computed at run time (an error code, a server reason) outside the typed `t`: the language in
 * force now. Use `hasTranslation` first where the key may not exist.
 */
export function translate(key: string, options?: TOptions): string {
  return (i18next.t as unknown as (k: string, o?: TOptions) => string)(key, options)
}

export function hasTranslation(key: string): boolean {
  return i18next.exists(key)
}

/** A number in the language shown (grouping, decimal mark). */
export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(currentLanguage(), options).format(value)
}

/** A date and time for reading (not evidence: evidence times use `formatTime`, one UTC format for everyone). */
export function formatDateTime(value: string | number | Date, options: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' }): string {
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? String(value) : new Intl.DateTimeFormat(currentLanguage(), options).format(date)
}

export { i18next }
