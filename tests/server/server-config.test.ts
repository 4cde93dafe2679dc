import { describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadServerConfig, parseServerConfig } from '../../src-main/server'
import { SecurityServerError } from '../../src-main/platform'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()

function failure(fn: () => unknown): SecurityServerError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(SecurityServerError)
    return error as SecurityServerError
  }
  throw new Error('expected a configuration error')
}

describe('server configuration', () => {
  it('has X-Road default ports and loopback for the internal side', () => {
    const config = parseServerConfig({}, 'test')
    expect(config.internal).toEqual({ host: '127.0.0.1', clientProxyHttpPort: 8080, clientProxyHttpsPort: 8443, adminPort: 4000 })
    expect(config.external).toEqual({ host: '0.0.0.0', serverProxyPort: 5500, ocspResponderPort: 5577 })
  })

  it('has the health-check endpoint off unless a port is given (X-Road health-check-port)', () => {
    expect(parseServerConfig({}, 'test').healthCheck).toEqual({ host: '0.0.0.0', port: null })
    expect(parseServerConfig({ healthCheck: { port: 5588 } }, 'test').healthCheck).toEqual({ host: '0.0.0.0', port: 5588 })
    expect(failure(() => parseServerConfig({ healthCheck: { port: -1 } }, 'x.json')).detail).toBe('healthCheck.port')
  })

  it('names the invalid field', () => {
    const error = failure(() => parseServerConfig({ external: { serverProxyPort: 70000 } }, 'x.json'))
    expect(error.code).toBe('invalid_config')
    expect(error.message).toContain("field 'external.serverProxyPort'")
    expect(error.detail).toBe('external.serverProxyPort')
  })

  it('accepts proxy listener limits and names a bad one', () => {
    expect(parseServerConfig({ proxyLimits: { maxBodyBytes: 1_048_576, headersTimeoutMs: 5000 } }, 'x.json').proxyLimits).toEqual({
      maxBodyBytes: 1_048_576, headersTimeoutMs: 5000,
    })
    expect(failure(() => parseServerConfig({ proxyLimits: { maxBodyBytes: 10 } }, 'x.json')).detail).toBe('proxyLimits.maxBodyBytes')
  })

  it('names unknown fields instead of ignoring typos', () => {
    const error = failure(() => parseServerConfig({ internal: { adminPrt: 1 } }, 'x.json'))
    expect(error.message).toContain('adminPrt')
  })

  it('loads DATA_DIR/gatehouse.json, defaults without one, and refuses a missing explicit file', () => {
    const dir = tempDir()
    expect(loadServerConfig(dir).internal.adminPort).toBe(4000)
    writeFileSync(join(dir, 'gatehouse.json'), JSON.stringify({ internal: { adminPort: 4100 } }))
    expect(loadServerConfig(dir).internal.adminPort).toBe(4100)
    expect(failure(() => loadServerConfig(dir, join(dir, 'missing.json'))).code).toBe('config_file_not_found')
    writeFileSync(join(dir, 'broken.json'), '{ not json')
    expect(failure(() => loadServerConfig(dir, join(dir, 'broken.json'))).message).toMatch(/not valid JSON/)
  })
})
