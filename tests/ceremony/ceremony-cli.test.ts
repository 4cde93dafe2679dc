import { afterEach, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { memberId } from '@shared/domain/identifiers'
import { parseTranscript, verifyTranscript } from '../../src-main/ceremony'
import { initLab, openLab } from '../../src-main/lab'
import { runGatehouse } from '../support/cli'
import { createSoftHsmToken, type SoftHsmToken } from '../support/softhsm'
import { SOFTHSM, describeWith } from '../support/requirements'
import { useTempDirs } from '../support/temp-dir'

const tempDir = useTempDirs()
const ROOT = resolve(__dirname, '../..')

describeWith([SOFTHSM], 'gatehouse ceremony CLI and the demo', () => {
  let token: SoftHsmToken | undefined
  afterEach(() => {
    token?.cleanup()
    token = undefined
  })

  it('runs a key ceremony step by step with secrets on stdin', async () => {
    const dir = tempDir()
    token = createSoftHsmToken({ label: 'cli-token', pin: '246810' })
    const env = token.env
    const run = (args: string[], input?: string) => runGatehouse(['ceremony', ...args], { env, input })
    const c = join(dir, 'c')
    expect(run(['init', c, '--title', 'CLI ceremony', '--kind', 'key']).status).toBe(0)
    expect(run(['participant', 'add', c, '--name', 'Ada', '--role', 'administrator'], 'admin passphrase\n').status).toBe(0)
    expect(run(['participant', 'add', c, '--name', 'Carl', '--role', 'custodian'], 'carl passphrase\n').status).toBe(0)
    expect(run(['participant', 'add', c, '--name', 'Wes', '--role', 'witness'], 'wes passphrase\n').status).toBe(0)
    expect(run(['participant', 'add', c, '--name', 'Bad', '--role', 'king'], 'bad passphrase\n').status).toBe(2)
    const identify = run(['identify-token', c, '--actor', 'ada', '--module', token.module, '--token', 'cli-token', '--json'])
    expect(identify.status).toBe(0)
    expect(JSON.parse(identify.stdout)).toMatchObject({ label: 'cli-token', model: 'SoftHSM v2' })
    const refused = run(['generate-key', c, '--actor', 'ada', '--confirm', 'carl,wes', '--label', 'sign-1'], '246810\ncarl passphrase\nwes passphrase\n')
    expect(refused.status).toBe(1)
    const key = run(['generate-key', c, '--actor', 'ada', '--confirm', 'carl,ada', '--label', 'sign-1', '--json'], '246810\ncarl passphrase\nadmin passphrase\n')
    expect(key.status).toBe(0)
    expect(JSON.parse(key.stdout).attributes).toMatchObject({ CKA_EXTRACTABLE: false, CKA_NEVER_EXTRACTABLE: true })
    const usb = join(dir, 'usb')
    const csr = run(['csr', c, '--actor', 'ada', '--confirm', 'carl,ada', '--subject', 'LAB:GOV:1234', '--out', usb, '--json'], '246810\ncarl passphrase\nadmin passphrase\n')
    expect(csr.status).toBe(0)
    const { file, qrFile } = JSON.parse(csr.stdout) as { file: string; qrFile: string }
    expect(readFileSync(qrFile).subarray(1, 4).toString()).toBe('PNG')

    await initLab(join(dir, 'lab'), { instance: 'LAB' })
    const lab = openLab(join(dir, 'lab'))
    lab.addMember(memberId('LAB', 'GOV', '1234'), 'Government 1234')
    writeFileSync(join(usb, 'sign-1.cert.pem'), (await lab.issueCertificate(readFileSync(file), 'sign')).pem)
    lab.close()
    expect(run(['import-cert', c, '--actor', 'ada', '--cert', join(usb, 'sign-1.cert.pem'), '--ca', join(dir, 'lab', 'ca.pem')]).status).toBe(0)
    const seal = run(['seal', c, '--actor', 'ada', '--confirm', 'carl,ada', '--json'], '246810\ncarl passphrase\nadmin passphrase\n')
    expect(seal.status).toBe(0)
    const transcriptPath = JSON.parse(seal.stdout).transcript as string
    const verify = run(['verify', transcriptPath, '--json'])
    expect(verify.status).toBe(0)
    expect(JSON.parse(verify.stdout)).toMatchObject({ valid: true, sealed: true })
    const transcript = parseTranscript(readFileSync(transcriptPath, 'utf8'))
    expect(transcript.seal?.keyLocation).toContain('PKCS#11 token cli-token')
    expect(transcript.entries.find((e) => e.step === 'generate-key')?.outcome).toBe('refused')
    expect(readFileSync(transcriptPath, 'utf8')).not.toContain('246810')
  }, 180_000)

  it('npm run demo:ceremony prints a valid, sealed transcript path as its last line', () => {
    const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'demo-ceremony.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    expect(result.status, result.stderr).toBe(0)
    const last = result.stdout.trim().split('\n').at(-1) ?? ''
    try {
      expect(last).toMatch(/transcript\.json$/)
      const verification = verifyTranscript(parseTranscript(readFileSync(last, 'utf8')))
      expect(verification).toMatchObject({ valid: true, sealed: true })
    } finally {
      if (last.includes('gatehouse-ceremony-demo-')) rmSync(dirname(dirname(last)), { recursive: true, force: true })
    }
  }, 180_000)
})
