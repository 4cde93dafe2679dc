import 'reflect-metadata'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

/** Temporary directories removed after the suite. */
export function tempDirs(): { make(prefix?: string): string; cleanup(): void } {
  const dirs: string[] = []
  return {
    make(prefix = 'gatehouse-lab-') {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      dirs.push(dir)
      return dir
    },
    cleanup() {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
    },
  }
}

/** A PKCS#10 request made the way a security server's signer would (OpenSSL refuses a 3-letter C). */
export async function makeCsr(subject: string, kind: 'ec' | 'rsa' = 'ec'): Promise<{ pem: string; der: Uint8Array }> {
  const algorithm =
    kind === 'ec'
      ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
      : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: subject, keys: keys as never, signingAlgorithm: algorithm })
  return { pem: csr.toString('pem'), der: new Uint8Array(csr.rawData) }
}

export function openssl(args: string[], input?: Uint8Array): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { input, encoding: 'buffer', timeout: 15_000 })
  return { status: r.status ?? -1, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') }
}

export function writeTemp(dir: string, name: string, data: string | Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, data)
  return path
}

export function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'])
    return true
  } catch {
    return false
  }
}
