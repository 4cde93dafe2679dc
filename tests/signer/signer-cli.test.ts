import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it, vi } from 'vitest'
import { runCli } from '../../src-main/cli/main'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { PKCS11_TOOL, SOFTHSM, describeWith } from '../support/requirements'
import { createTestCa } from './test-ca'

async function cli(...args: string[]): Promise<{ code: number; json: Record<string, unknown> }> {
  const out: string[] = []
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk))
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  try {
    const code = await runCli(['node', 'gatehouse', ...args, '--json'])
    const text = out.join('').trim()
    return { code, json: text === '' ? {} : (JSON.parse(text.split('\n').at(-1) ?? '{}') as Record<string, unknown>) }
  } finally {
    spy.mockRestore()
    err.mockRestore()
  }
}

describeWith([SOFTHSM, PKCS11_TOOL], 'signer CLI with SoftHSM2 and pkcs11-tool', () => {
  let hsm: SoftHsmToken
  let dataDir: string
  let tokenId: string
  let keyId: string

  beforeAll(() => {
    hsm = createSoftHsmToken({ label: 'cli-token', pin: '4321' })
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-signer-cli-'))
  })
  afterAll(() => {
    hsm.cleanup()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('adds the PKCS#11 token by label and lists it', async () => {
    const added = await cli('token', 'add-pkcs11', '--data-dir', dataDir, '--module', hsm.module, '--label', 'cli-token')
    expect(added.code).toBe(0)
    tokenId = (added.json.token as { id: string }).id
    const listed = await cli('token', 'list', '--data-dir', dataDir)
    expect((listed.json.tokens as Array<{ id: string; label: string; available: boolean }>)).toEqual([
      expect.objectContaining({ id: tokenId, label: 'cli-token', available: true }),
    ])
  })

  it('refuses a wrong PIN with pin_incorrect and exit 1', async () => {
    const result = await cli('token', 'login', '--data-dir', dataDir, '--token', tokenId, '--pin', '0000')
    expect(result.code).toBe(1)
    expect(result.json.code).toBe('pin_incorrect')
  })

  it('generates a key that pkcs11-tool shows as private, sensitive and never extractable', async () => {
    const result = await cli('key', 'generate', '--data-dir', dataDir, '--token', tokenId, '--usage', 'sign', '--algorithm', 'rsa-2048', '--label', 'sign-key', '--pin', '4321')
    expect(result.code).toBe(0)
    keyId = (result.json.key as { id: string }).id
    const objects = execFileSync('pkcs11-tool', ['--module', hsm.module, '--token-label', 'cli-token', '--login', '--pin', '4321', '--list-objects'], { env: hsm.env, encoding: 'utf8' })
    const privateKey = objects.split(/\n(?=\S)/).find((block) => block.startsWith('Private Key Object') && block.includes(`ID:         ${keyId}`))
    expect(privateKey).toBeDefined()
    expect(privateKey).toMatch(/Access:\s+sensitive, always sensitive, never extractable, local/)
    expect(privateKey).toMatch(/Usage:\s+sign\b/)
    expect(privateKey).not.toMatch(/Usage:.*decrypt/)
  })

  it('generates a CSR that openssl verifies, and imports and activates the issued certificate', async () => {
    const csrFile = join(dataDir, 'sign.csr')
    const result = await cli('csr', 'generate', '--data-dir', dataDir, '--key', keyId, '--member', 'EE/GOV/1234', '--usage', 'sign', '--out', csrFile, '--pin', '4321')
    expect(result.code).toBe(0)
    expect(result.json.subject).toBe('C=EE, O=GOV, CN=1234')
    const verified = execFileSync('openssl', ['req', '-verify', '-noout', '-in', csrFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    expect(verified).toBe('')
    const derFile = join(dataDir, 'sign.der')
    expect((await cli('csr', 'generate', '--data-dir', dataDir, '--key', keyId, '--member', 'EE/GOV/1234', '--usage', 'sign', '--format', 'der', '--out', derFile, '--pin', '4321')).code).toBe(0)
    execFileSync('openssl', ['req', '-verify', '-noout', '-inform', 'DER', '-in', derFile], { stdio: 'pipe' })

    const ca = createTestCa(dataDir)
    const certFile = join(dataDir, 'sign.pem')
    ca.issue(csrFile, certFile)
    const imported = await cli('cert', 'import', certFile, '--data-dir', dataDir, '--member', 'EE/GOV/1234', '--ca', ca.certFile)
    expect(imported.code).toBe(0)
    const cert = imported.json.certificate as { id: string; keyId: string; state: string }
    expect(cert).toMatchObject({ keyId, state: 'saved' })
    expect((await cli('cert', 'import', certFile, '--data-dir', dataDir)).json.code).toBe('cert_exists')
    expect((await cli('cert', 'activate', cert.id.slice(0, 12), '--data-dir', dataDir)).code).toBe(0)
    const listed = await cli('cert', 'list', '--data-dir', dataDir)
    expect(listed.json.certificates).toEqual([expect.objectContaining({ id: cert.id, state: 'active', notAfter: expect.any(String) })])
    expect(readFileSync(certFile, 'utf8')).toContain('BEGIN CERTIFICATE')
  })

  it('refuses to delete a key whose certificate is active, then deletes it with its certificates once disabled', async () => {
    const refused = await cli('key', 'delete', keyId, '--data-dir', dataDir, '--pin', '4321')
    expect(refused.code).toBe(1)
    expect(refused.json.code).toBe('conflict')
    expect((await cli('key', 'list', '--data-dir', dataDir)).json.keys).toHaveLength(1)
    const [cert] = (await cli('cert', 'list', '--data-dir', dataDir)).json.certificates as Array<{ id: string }>
    expect((await cli('cert', 'disable', (cert as { id: string }).id.slice(0, 12), '--data-dir', dataDir)).code).toBe(0)
    expect((await cli('key', 'delete', keyId, '--data-dir', dataDir, '--pin', '4321')).code).toBe(0)
    expect((await cli('key', 'list', '--data-dir', dataDir)).json.keys).toEqual([])
    expect((await cli('cert', 'list', '--data-dir', dataDir)).json.certificates).toEqual([])
  })

  it('generates an EC P-256 key when no algorithm is given (issue 15 §4: EC by default, RSA on request)', async () => {
    const result = await cli('key', 'generate', '--data-dir', dataDir, '--token', tokenId, '--usage', 'sign', '--label', 'ec-key', '--pin', '4321')
    expect(result.code).toBe(0)
    const key = result.json.key as { id: string; algorithm: string }
    expect(key.algorithm).toBe('ec-p256')
    expect((await cli('key', 'delete', key.id, '--data-dir', dataDir, '--pin', '4321')).code).toBe(0)
  })

  it('rejects bad usage with exit 2', async () => {
    expect((await cli('key', 'generate', '--data-dir', dataDir, '--token', tokenId, '--usage', 'encrypt', '--algorithm', 'rsa-2048', '--label', 'x', '--pin', '4321')).code).toBe(2)
  })
})
