import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * The message catalogues are complete: every key of every namespace exists in every language with the same
 * interpolation variables and the plural forms the language needs, and no screen holds text outside them.
 */
const ROOT = resolve(__dirname, '../..')
const LOCALES = join(ROOT, 'src-renderer/i18n/locales')
const LANGUAGES = ['en', 'pt-BR', 'es']
const PLURAL = /_(zero|one|two|few|many|other)$/

type Tree = { [key: string]: string | Tree }

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix === '' ? key : `${prefix}.${key}`
    if (typeof value === 'string') out.set(path, value)
    else for (const [k, v] of flatten(value, path)) out.set(k, v)
  }
  return out
}

const catalog = (language: string, ns: string): Map<string, string> =>
  flatten(JSON.parse(readFileSync(join(LOCALES, language, `${ns}.json`), 'utf8')) as Tree)
const namespaces = (language: string): string[] => readdirSync(join(LOCALES, language)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort()
const variables = (text: string): string[] => [...text.matchAll(/\{\{\s*([a-zA-Z0-9_]+)/g)].map((m) => m[1] as string).sort()
const baseKeys = (keys: Iterable<string>): Set<string> => new Set([...keys].map((k) => k.replace(PLURAL, '')))

describe('message catalogues', () => {
  it('every language has the same namespaces as English', () => {
    for (const language of LANGUAGES) expect(namespaces(language), language).toEqual(namespaces('en'))
  })

  for (const ns of namespaces('en')) {
    it(`namespace ${ns}: same keys, variables and plural forms in every language, no empty text`, () => {
      const en = catalog('en', ns)
      for (const language of LANGUAGES) {
        const other = catalog(language, ns)
        expect([...baseKeys(other.keys())].sort(), `${language}/${ns} keys`).toEqual([...baseKeys(en.keys())].sort())
        for (const [key, text] of other) {
          expect(text.trim(), `${language}/${ns}:${key} is empty`).not.toBe('')
          const base = key.replace(PLURAL, '')
          const english = en.get(key) ?? en.get(`${base}_other`) ?? en.get(base) ?? ''
          expect(variables(text), `${language}/${ns}:${key} variables`).toEqual(variables(english))
        }
        for (const key of en.keys()) {
          if (!PLURAL.test(key)) continue
          const base = key.replace(PLURAL, '')
          for (const form of ['one', 'other']) expect(other.has(`${base}_${form}`), `${language}/${ns}:${base}_${form}`).toBe(true)
        }
      }
    })
  }
})

/** Attributes whose value a person reads. */
const READ_ATTRIBUTES = new Set(['label', 'description', 'placeholder', 'title', 'aria-label', 'alt', 'confirmLabel', 'cancelLabel'])

/** Text on screen written into a component instead of a catalogue: JSX text and readable attributes with letters. */
function literalTexts(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node) && /\p{L}{2,}/u.test(node.text)) found.push(node.text.trim())
    if (ts.isJsxAttribute(node) && READ_ATTRIBUTES.has(node.name.getText(source)) && node.initializer !== undefined) {
      const init = node.initializer
      const literal = ts.isStringLiteral(init) ? init : ts.isJsxExpression(init) && init.expression !== undefined && ts.isStringLiteral(init.expression) ? init.expression : undefined
      if (literal !== undefined && /\p{L}{2,}/u.test(literal.text)) found.push(`${node.name.getText(source)}="${literal.text}"`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function tsxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsxFiles(join(dir, e.name)) : e.name.endsWith('.tsx') ? [join(dir, e.name)] : [])
}

describe('screens take their text from the catalogues', () => {
  for (const file of tsxFiles(join(ROOT, 'src-renderer'))) {
    it(relative(ROOT, file), () => {
      expect(literalTexts(file)).toEqual([])
    })
  }
})
