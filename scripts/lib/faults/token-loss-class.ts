import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { encodeIdentifier } from '@shared/domain/identifiers'
import type { CertificateAuthorityDto, CertificateDto, GeneratedCsrDto, KeyDto, TokenDto } from '@shared/admin-api/admin-api'
import { openLab } from '../../../src-main/lab'
import type { ClassContext } from './fault-context'
import { isAcknowledged } from './fault-load'

/**
 * token-loss: the consumer's signing key on a SoftHSM2 token (its own SOFTHSM2_CONF and token directory, found by
 * label), made and certified through the admin API as a key custodian would in the GUI. Mid-load the token's files
 * are renamed away (the device is gone for SoftHSM2, nothing injected into the server), then put back. Expected:
 * clean X-Road errors while the device is gone, never a 2xx without its records, and traffic again once it is back —
 * after a token login through the admin API if the device needs one — without restarting the server.
 */
export const SOFTHSM_MODULE = process.env.GATEHOUSE_SOFTHSM_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so'
const HSM_LABEL = 'fault-hsm'
const HSM_PIN = '4321'

function softHsmAvailable(): boolean {
  if (!existsSync(SOFTHSM_MODULE)) return false
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'pipe' })
    return true
  } catch {
    return false
  }
}

export async function tokenLossClass(ctx: ClassContext): Promise<void> {
  if (!softHsmAvailable()) {
    ctx.note(`skipped: SoftHSM2 is not installed (${SOFTHSM_MODULE}, softhsm2-util; Debian package softhsm2)`)
    return
  }
  const server = ctx.server('consumer')
  const dir = join(ctx.pair.built.dir, 'softhsm')
  const tokens = join(dir, 'tokens')
  const away = join(dir, 'tokens.away')
  mkdirSync(tokens, { recursive: true })
  const conf = join(dir, 'softhsm2.conf')
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`)
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', HSM_LABEL, '--so-pin', '12345678', '--pin', HSM_PIN], {
    env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'pipe',
  })
  server.env = { SOFTHSM2_CONF: conf }
  await server.stop()
  await server.start()
  const admin = (): ReturnType<typeof server.admin> => server.admin()
  const member = encodeIdentifier(ctx.pair.built.consumer.member)
  // The key custodian's steps: add the token, log in, generate a signing key, request and import its certificate.
  const token = await admin().call<TokenDto>('tokens', 'addHsm', [{ modulePath: SOFTHSM_MODULE, tokenLabel: HSM_LABEL }])
  await admin().call('tokens', 'login', [{ tokenId: token.id, pin: HSM_PIN }])
  const key = await admin().call<KeyDto>('keys', 'generate', [{ tokenId: token.id, usage: 'sign', algorithm: 'ec-p256', label: 'fault-sign' }])
  const [ca] = await admin().call<CertificateAuthorityDto[]>('csrs', 'authorities', [])
  if (ca === undefined) throw new Error('no approved CA to request a signing certificate from')
  const csr = await admin().call<GeneratedCsrDto>('csrs', 'generate', [{ keyId: key.id, caName: ca.name, member, format: 'der' }])
  const lab = openLab(ctx.pair.built.labDir)
  let issued: Uint8Array
  try {
    issued = (await lab.issueCertificate(new Uint8Array(Buffer.from(csr.content, 'base64')), 'sign')).der
  } finally {
    lab.close()
  }
  const hsmCert = await admin().call<CertificateDto>('certificates', 'import', [{ content: Buffer.from(issued).toString('base64'), encoding: 'base64', member }])
  await admin().call('certificates', 'activate', [{ certId: hsmCert.id }])
  const softwareSign = (await admin().call<CertificateDto[]>('certificates', 'list', []))
    .filter((c) => c.usage === 'sign' && c.tokenId !== token.id && c.state === 'active')
  for (const c of softwareSign) await admin().call('certificates', 'disable', [{ certId: c.id }])
  ctx.note(`consumer signs with key ${key.id} on SoftHSM2 token '${HSM_LABEL}' (software signing certificate disabled)`)
  try {
    for (let trial = 1; trial <= ctx.sizes.tokenTrials; trial++) {
      ctx.startLoad()
      try {
        if ((await ctx.waitForTraffic(Date.now(), 90_000)) === undefined) throw new Error('no traffic signed with the SoftHSM2 key')
        await ctx.pause(ctx.between(500, 1500))
        const lostAt = Date.now()
        renameSync(tokens, away)
        ctx.report.trials++
        const refusal = await ctx.waitForRefusal(lostAt, 30_000)
        if (refusal === undefined) ctx.fail(`trial ${trial}: messages were still signed 30 s after the token's files were gone`)
        else ctx.note(`trial ${trial}: token gone; first refusal after ${((refusal.atMs - lostAt) / 1000).toFixed(1)} s: ${refusal.code || `HTTP ${refusal.status}`}`)
        await ctx.pause(ctx.sizes.holdMs)
        const during = ctx.all().filter((o) => o.sentAtMs >= lostAt + 1000 && o.atMs <= Date.now())
        const unclean = during.filter((o) => !isAcknowledged(o) && (o.code === '' || o.code.startsWith('network:')))
        if (unclean.length > 0) ctx.fail(`trial ${trial}: ${unclean.length} answer(s) without an X-Road error while the token was gone (e.g. ${unclean[0]?.code || `HTTP ${unclean[0]?.status}`})`)
        const signedWithout = during.filter(isAcknowledged).length
        if (signedWithout > 0) ctx.note(`trial ${trial}: ${signedWithout} message(s) acknowledged while the token's files were gone`)
        renameSync(away, tokens)
        const backAt = Date.now()
        let flowing = await ctx.waitForTraffic(backAt, 20_000)
        if (flowing === undefined) {
          const state = (await admin().call<TokenDto[]>('tokens', 'list', [])).find((t) => t.id === token.id)
          ctx.note(`trial ${trial}: no traffic 20 s after the token returned (token ${state?.state ?? 'missing'}, available ${String(state?.available)}); logging in as the GUI would`)
          await admin().call('tokens', 'login', [{ tokenId: token.id, pin: HSM_PIN }]).catch((e: unknown) => ctx.note(`login: ${String(e)}`))
          flowing = await ctx.waitForTraffic(Date.now(), 30_000)
        }
        if (flowing === undefined) ctx.fail(`trial ${trial}: traffic did not flow again after the token returned, without a restart`)
        else {
          ctx.report.recoveredWithoutRestart++
          ctx.note(`trial ${trial}: traffic flowed again ${((flowing - backAt) / 1000).toFixed(1)} s after the token returned`)
        }
        await ctx.pause(ctx.sizes.holdMs / 3)
      } finally {
        if (existsSync(away)) renameSync(away, tokens)
        await ctx.stopLoad()
      }
    }
    ctx.countUnrecorded()
  } finally {
    // Back to the software key, so later restarts (which log in only the software token) keep serving.
    for (const c of softwareSign) await admin().call('certificates', 'activate', [{ certId: c.id }]).catch(() => undefined)
    await admin().call('certificates', 'disable', [{ certId: hsmCert.id }]).catch(() => undefined)
  }
}
