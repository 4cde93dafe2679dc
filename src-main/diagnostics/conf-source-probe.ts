import type { ProbeResult } from '@shared/admin-api/admin-api'
import { checkPartHash, httpGet, parseSignedDirectory, verifySignedDirectory, type AnchorSource } from '../global-conf'
import { toSecurityServerError } from '../platform'
import { StepClock, timedHttp, type HttpAnswer } from './probe-network'
import { networkFailure, probeResult } from './probe-result'

/**
 * One configuration source of the anchor (PR-GCONF §2.6–2.7, xroad-protocols.md §5.2): the signed directory
 * downloaded as the configuration client downloads it (`?version=6`, then older on 404), its signature checked against
 * the anchor's verification certificates, then every part downloaded and checked against its hash. Nothing is stored:
 * the configuration in force is left as it is.
 */
const VERSIONS = [6, 5, 4, 3, 2] as const

export async function probeConfigurationSource(source: AnchorSource, now: () => Date): Promise<ProbeResult> {
  const clock = new StepClock()
  const url = source.downloadUrl
  let answer: HttpAnswer | undefined
  let fetchedFrom = url
  try {
    // A `version` already in the anchor's URL is respected, as the configuration client does.
    const attempts = new URL(url).searchParams.has('version') ? [url] : VERSIONS.map((version) => {
      const target = new URL(url)
      target.searchParams.set('version', String(version))
      return target.toString()
    })
    for (const attempt of attempts) {
      fetchedFrom = attempt
      answer = await timedHttp(attempt, clock)
      if (answer.status !== 404) break
    }
  } catch (error) {
    const failure = networkFailure('conf', error)
    return probeResult('conf-source', url, url, failure.code, { url, ...failure.params }, clock)
  }
  if (answer === undefined || answer.status !== 200) {
    return probeResult('conf-source', url, url, 'conf-http-error', { url, status: answer?.status ?? 0 }, clock)
  }
  const body = answer.body
  let directory
  try {
    directory = await clock.time('verify', () => verifySignedDirectory(body, { verificationCerts: source.verificationCerts, now: now() }))
  } catch (error) {
    const coded = toSecurityServerError(error)
    if (coded.code === 'global_conf_outdated') {
      const expiresAt = parseSignedDirectory(body).expiresAt?.toISOString() ?? ''
      return probeResult('conf-source', url, url, 'conf-expired', { url, expiresAt }, clock)
    }
    return probeResult('conf-source', url, url, 'conf-invalid', { url, reason: coded.message }, clock)
  }
  const params = { url, version: directory.version, parts: directory.parts.length, expiresAt: directory.expiresAt.toISOString() }
  try {
    await clock.time('parts', async () => {
      for (const part of directory.parts) {
        const partUrl = new URL(part.contentLocation, fetchedFrom).toString()
        const res = await httpGet(partUrl, { timeoutMs: 10_000 })
        if (res.status !== 200) throw new Error(`${part.contentIdentifier} at ${partUrl} answered HTTP ${res.status}`)
        checkPartHash(part, new Uint8Array(res.body))
      }
    })
  } catch (error) {
    return probeResult('conf-source', url, url, 'conf-invalid', { ...params, reason: (error as Error).message }, clock)
  }
  return probeResult('conf-source', url, url, 'conf-ok', params, clock)
}
