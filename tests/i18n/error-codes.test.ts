import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { GATEHOUSE_ERROR_CODES, XROAD_ADMIN_ERROR_CODES, XROAD_ERROR_CODES } from '@shared/error-codes'

/**
 * Every error code the server may answer (`src-shared/error-codes.ts`) has its plain-language explanation in the
 * `errors` catalogue of every language, and the catalogue explains no code that does not exist.
 */
const LOCALES = resolve(__dirname, '../../src-renderer/i18n/locales')
const CODES = [...XROAD_ERROR_CODES, ...XROAD_ADMIN_ERROR_CODES, ...GATEHOUSE_ERROR_CODES]

const explained = (language: string): Record<string, string> =>
  (JSON.parse(readFileSync(join(LOCALES, language, 'errors.json'), 'utf8')) as { codes: Record<string, string> }).codes

describe('error codes in the errors catalogue', () => {
  for (const language of ['en', 'pt-BR', 'es']) {
    it(`${language}: every code is explained, and only codes`, () => {
      const codes = explained(language)
      expect(CODES.filter((code) => codes[code] === undefined), `${language}: codes without an explanation`).toEqual([])
      expect(Object.keys(codes).filter((key) => !(CODES as readonly string[]).includes(key)), `${language}: explanations of no code`).toEqual([])
    })
  }

})
