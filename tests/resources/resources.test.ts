import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseServerConfig } from '../../src-main/server'

const resource = (name: string) => readFileSync(resolve(__dirname, '../../resources', name), 'utf8')

describe('resources', () => {
  it('the example configuration is valid and equals the defaults', () => {
    expect(parseServerConfig(JSON.parse(resource('gatehouse.example.json')), 'gatehouse.example.json')).toEqual(parseServerConfig({}, 'defaults'))
  })

  it('every PKCS#11 preset names absolute module paths and unique ids', () => {
    const { modules } = JSON.parse(resource('pkcs11-modules.json')) as { modules: Array<{ id: string; name: string; paths: string[] }> }
    expect(new Set(modules.map((m) => m.id)).size).toBe(modules.length)
    for (const m of modules) {
      expect(m.name.length).toBeGreaterThan(0)
      expect(m.paths.length).toBeGreaterThan(0)
      for (const p of m.paths) expect(p).toMatch(/^\/.+\.so$/)
    }
    expect(modules.find((m) => m.id === 'softhsm2')?.paths).toContain('/usr/lib/softhsm/libsofthsm2.so')
  })
})
