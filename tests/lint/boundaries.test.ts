import { describe, expect, it } from 'vitest'
import { resolve } from 'node:path'
import { ESLint } from 'eslint'

const ROOT = resolve(__dirname, '../..')
const eslint = new ESLint({ cwd: ROOT })

/** Lints `code` as if it were the file at `path` and returns the boundary rule's messages. */
async function boundaryMessages(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, path) })
  return (result?.messages ?? []).filter((m) => m.ruleId === 'gatehouse/boundaries').map((m) => m.message)
}

describe('architecture boundaries (npm run lint)', () => {
  it("fails when a domain imports 'electron'", async () => {
    expect(await boundaryMessages('src-main/proxy/planted.ts', "import { app } from 'electron'\nexport const a = app\n")).toEqual([
      "'electron' may be imported only under src-main/desktop (found in src-main/proxy/planted.ts)",
    ])
    expect(await boundaryMessages('src-main/desktop/planted.ts', "import { app } from 'electron'\nexport const a = app\n")).toEqual([])
  })

  it("fails when 'pkcs11js' is imported outside the PKCS#11 driver folder", async () => {
    const code = "import * as pkcs11 from 'pkcs11js'\nexport const p = pkcs11\n"
    expect(await boundaryMessages('src-main/signer/planted.ts', code)).toHaveLength(1)
    expect(await boundaryMessages('src-main/signer/pkcs11/planted.ts', code)).toEqual([])
  })

  it('keeps src-shared free of main, renderer, Node and UI imports', async () => {
    expect(await boundaryMessages('src-shared/planted.ts', "import { readFileSync } from 'node:fs'\nexport const r = readFileSync\n")).toHaveLength(1)
    expect(await boundaryMessages('src-shared/planted.ts', "import { useState } from 'react'\nexport const r = useState\n")).toHaveLength(1)
    expect(await boundaryMessages('src-shared/planted.ts', "import { x } from '../src-main/platform'\nexport const r = x\n")).toHaveLength(1)
  })

  it('lets domains reach each other only through their index', async () => {
    expect(await boundaryMessages('src-main/proxy/planted.ts', "import { x } from '../signer/secret-file'\nexport const r = x\n")).toEqual([
      "import src-main/signer through its index ('../signer/secret-file' reaches into its internals)",
    ])
    expect(await boundaryMessages('src-main/proxy/planted.ts', "import { x } from '../signer'\nexport const r = x\n")).toEqual([])
  })

  it('keeps the renderer away from src-main', async () => {
    expect(await boundaryMessages('src-renderer/planted.ts', "import { x } from '../src-main/platform'\nexport const r = x\n")).toHaveLength(1)
  })

  it('refuses a generator function made per call in product code (each has its own prototype and V8 map)', async () => {
    const messages = async (path: string, code: string): Promise<string[]> => {
      const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, path) })
      return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message)
    }
    const nested = 'export function body(n: number) {\n  return (async function* () { yield n })()\n}\n'
    const literal = 'export const source = (n: number) => ({ async *chunks() { yield n } })\n'
    const moduleLevel = 'async function* chunks(n: number) { yield n }\nexport const source = (n: number) => ({ chunks: () => chunks(n) })\n'
    expect(await messages('src-main/proxy/planted.ts', nested)).toHaveLength(1)
    expect(await messages('src-main/proxy/planted.ts', literal)).toHaveLength(2)
    expect(await messages('src-main/proxy/planted.ts', moduleLevel)).toEqual([])
    expect(await messages('tests/proxy/planted.test.ts', nested)).toEqual([])
  })
})
