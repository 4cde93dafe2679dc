import { createHmac } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

/**
 * Outbound webhook: one JSON POST per alert change to the administrator's URL, signed with HMAC-SHA256 of the body
 * when a secret is set (`X-Gatehouse-Signature: sha256=<hex>`, the scheme GitHub-style receivers check), bounded in
 * time, retried on network errors and 5xx answers.
 */
export interface WebhookTarget {
  url: string
  secret?: string
}

export interface WebhookOptions {
  timeoutMs?: number
  /** Attempts in all (first included); default 3. */
  attempts?: number
  /** Wait before the second attempt, doubled after each; default 1 s. */
  retryDelayMs?: number
}

export const WEBHOOK_SIGNATURE_HEADER = 'x-gatehouse-signature'
export const WEBHOOK_EVENT_HEADER = 'x-gatehouse-event'

export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`
}

function postOnce(target: WebhookTarget, event: string, body: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(target.url)
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'user-agent': 'Gatehouse-alerts', [WEBHOOK_EVENT_HEADER]: event,
    }
    if (target.secret !== undefined && target.secret !== '') headers[WEBHOOK_SIGNATURE_HEADER] = webhookSignature(target.secret, body)
    const req = send(url, { method: 'POST', headers, timeout: timeoutMs }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

/** Posts `payload`; resolves when a 2xx answer came, rejects with the last failure otherwise. */
export async function postWebhook(target: WebhookTarget, event: string, payload: unknown, options: WebhookOptions = {}): Promise<void> {
  const body = JSON.stringify(payload)
  const attempts = options.attempts ?? 3
  let delay = options.retryDelayMs ?? 1000
  let last: Error = new Error('not sent')
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const status = await postOnce(target, event, body, options.timeoutMs ?? 5000)
      if (status >= 200 && status < 300) return
      last = new Error(`HTTP ${status}`)
      // A 4xx answer will not change on a retry.
      if (status < 500) break
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error))
    }
    if (attempt < attempts) {
      await new Promise((r) => setTimeout(r, delay))
      delay *= 2
    }
  }
  throw last
}
