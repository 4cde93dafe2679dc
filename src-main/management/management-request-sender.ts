import { createHash, X509Certificate } from 'node:crypto'
import { describeIdentifier, memberOf, type ClientId, type SecurityServerId } from '@shared/domain/identifiers'
import type { GlobalConf } from '../global-conf'
import { clientError, SecurityServerError, systemClock, type Clock } from '../platform'
import { ecdsaRawToDer, type SignAlgorithm, type Signer } from '../signer'
import { SoapFaultError } from '../soap'
import {
  MANAGEMENT_REQUEST_FORMS, buildManagementRequest, encodeManagementParts, managementSignatureAlgorithm, parseManagementRequest,
  parseManagementResponse, type EncodedManagementRequest, type ManagementMessage, type ManagementParts, type ManagementRequestBody,
  type SignaturePart,
} from './management-messages'
import { postManagementRequest } from './management-request-client'

/**
 * Sending management requests as X-Road 7.8 does (`ManagementRequestSenderService`, `ManagementRequestSender`,
 * `GenericClientRequest`, `AuthCertRegRequest`): the sender is the server's owner, the receiver global
 * configuration's `managementRequestServiceProviderId`; the SOAP part is signed as it is (digest SHA-512,
 * `proxyui-api.auth-cert-reg-signature-digest-algorithm-id`'s default) with the signing key of the member the request
 * speaks for, on whatever token it lives, and, for `authCertReg`, with the authentication key being registered
 * (proof of possession). `authCertReg` goes straight to `authCertRegServiceAddress` over HTTPS checked against
 * `authCertRegServiceCert`; every other request goes through this server's own client proxy as an X-Road message.
 * Nothing is ever resent: a refusal, a network or TLS failure or a timeout is reported once, with the central server's
 * own fault text when it answered.
 */
export interface ManagementSenderDeps {
  /** The current global configuration, read at every request (never cached). */
  globalConf(): GlobalConf | undefined
  /** This server's identity (its owner is every request's sender). */
  serverId(): SecurityServerId | undefined
  readonly signer: Pick<Signer, 'getSigningContext' | 'listKeys' | 'listCertificates' | 'driver'>
  /** URL of this server's own client proxy for SOAP requests (e.g. `http://127.0.0.1:8080/`). */
  clientProxyUrl(): string | undefined
  readonly clock?: Clock
  /** Connect + read timeout of one request (default 60 s, X-Road's client-proxy timeouts). */
  readonly timeoutMs?: number
}

export interface PreparedManagementRequest {
  readonly message: ManagementMessage
  readonly parts: ManagementParts
  readonly encoded: EncodedManagementRequest
  /** Where it goes: `authCertRegServiceAddress` or the own client proxy. */
  readonly target: string
  readonly via: 'central-server' | 'client-proxy'
  /** The central server's TLS certificate from global configuration (authCertReg only). */
  readonly expectedServerCert?: Uint8Array
}

export interface SentManagementRequest {
  readonly prepared: PreparedManagementRequest
  /** The central server's request id (X-Road's `getRequestId`: absent when the answer carries none). */
  readonly requestId: number | undefined
  readonly response: ManagementMessage
}

/** Input for a request; `server` is filled in from this server's identity. */
export type ManagementRequestInput = ManagementRequestBody extends infer B ? B extends ManagementRequestBody ? Omit<B, 'server'> : never : never

export interface ManagementSender {
  /** Builds and signs the exact message that `send` would send (`--dry-run`), without sending it. */
  compose(input: ManagementRequestInput, options?: { id?: string }): Promise<PreparedManagementRequest>
  /** Sends a prepared request once and reads the central server's answer. */
  send(prepared: PreparedManagementRequest): Promise<SentManagementRequest>
}

const DEFAULT_TIMEOUT_MS = 60_000

export function createManagementSender(deps: ManagementSenderDeps): ManagementSender {
  const clock = deps.clock ?? systemClock

  const context = (): { conf: GlobalConf; serverId: SecurityServerId } => {
    const serverId = deps.serverId()
    if (serverId === undefined) throw clientError('not_initialized', 'This security server has not joined an instance yet')
    const conf = deps.globalConf()
    if (conf === undefined) throw new SecurityServerError('global_conf_outdated', 'No global configuration has been downloaded yet')
    // ManagementRequestSenderService.createManagementRequestSender: globalConfService.verifyGlobalConfValidity().
    conf.assertValid(clock.now())
    return { conf, serverId }
  }

  /** Signs `data` as X-Road's `createSignature` does: SHA-512 digest, the key's mechanism, DER for ECDSA. */
  const signWith = async (keyId: string, data: Buffer): Promise<SignaturePart> => {
    const key = deps.signer.listKeys().find((k) => k.id === keyId)
    if (key === undefined) throw new SecurityServerError('key_not_found', `Key ${keyId} is not in the key configuration`)
    const algorithm: SignAlgorithm = key.algorithm === 'ec-p256' ? 'ecdsa-sha512' : 'rsa-pkcs1-sha512'
    const digest = createHash('sha512').update(data).digest()
    let value: Buffer
    try {
      value = Buffer.from(await deps.signer.driver(key.tokenId).sign(key.id, algorithm, digest, data))
    } catch (error) {
      if (error instanceof SecurityServerError) throw error.withPrefix('cannot_create_signature')
      throw new SecurityServerError('cannot_create_signature', `Signing the management request failed: ${(error as Error).message}`, { cause: error })
    }
    return { algorithm: managementSignatureAlgorithm(algorithm), value: key.algorithm === 'ec-p256' ? ecdsaRawToDer(value) : value }
  }

  /** X-Road's `getMemberSigningInfo`: the member's active signing certificate with a good OCSP response. */
  const memberSigning = async (member: ClientId, soap: Buffer): Promise<{ signature: SignaturePart; cert: Buffer; ocsp: Buffer }> => {
    const ctx = await deps.signer.getSigningContext(member)
    const ocsp = ctx.ocspResponses[0]
    if (ocsp === undefined) {
      throw new SecurityServerError('cannot_sign', `The signing certificate of ${describeIdentifier(memberOf(member))} has no OCSP response yet`)
    }
    return { signature: await signWith(ctx.keyId, soap), cert: ctx.certChain[0] as Buffer, ocsp }
  }

  /** Whose signature a signed request carries (pr-mserv §2.1, §2.5–2.11). */
  const signerOf = (body: ManagementRequestBody, serverId: SecurityServerId): ClientId => {
    switch (body.service) {
      case 'clientReg': case 'clientDisable': case 'clientEnable': case 'clientRename': case 'ownerChange':
        return body.client
      default:
        return memberOf(serverId)
    }
  }

  return {
    async compose(input, options = {}) {
      const { conf, serverId } = context()
      const management = conf.managementService
      if (management === undefined) {
        throw new SecurityServerError('malformed_global_conf', 'Global configuration names no management service (private parameters are missing)')
      }
      const body = { ...input, server: serverId } as ManagementRequestBody
      const soap = buildManagementRequest(body, {
        sender: memberOf(serverId), receiver: management.managementRequestServiceProviderId, ...(options.id === undefined ? {} : { id: options.id }),
      })
      const message = parseManagementRequest(soap)
      const form = MANAGEMENT_REQUEST_FORMS[body.service]
      if (form === 'plain') {
        return { message, parts: { form, soap }, encoded: encodeManagementParts({ form, soap }), target: requireProxy(deps), via: 'client-proxy' }
      }
      if (form === 'signed') {
        const signing = await memberSigning(signerOf(body, serverId), soap)
        const parts: ManagementParts = { form, soap, ...signing }
        return { message, parts, encoded: encodeManagementParts(parts), target: requireProxy(deps), via: 'client-proxy' }
      }
      if (body.service !== 'authCertReg') throw new SecurityServerError('internal_error', `${body.service} is not sent as authCertReg`)
      if (management.authCertRegServiceCert === undefined) {
        throw new SecurityServerError('ssl_authentication_failed', 'Central server TLS certificate is not in global conf')
      }
      const authCert = checkAuthCert(body.authCert, clock.now())
      const authKey = deps.signer.listCertificates().find((c) => c.certDer.equals(authCert))?.keyId
      if (authKey === undefined) throw clientError('cert_not_found', 'The authentication certificate is not in the key configuration', { detail: 'certificate' })
      if (deps.signer.listKeys().find((k) => k.id === authKey)?.usage !== 'auth') {
        throw clientError('wrong_cert_usage', 'The certificate does not belong to an authentication key', { detail: 'certificate' })
      }
      const authSignature = await signWith(authKey, soap)
      const owner = await memberSigning(memberOf(serverId), soap)
      const parts: ManagementParts = {
        form, soap, authSignature, ownerSignature: owner.signature, authCert, ownerCert: owner.cert, ownerOcsp: owner.ocsp,
      }
      return {
        message, parts, encoded: encodeManagementParts(parts), target: management.authCertRegServiceAddress, via: 'central-server',
        expectedServerCert: management.authCertRegServiceCert,
      }
    },

    async send(prepared) {
      const answer = await postManagementRequest(prepared.target, prepared.encoded, {
        timeoutMs: deps.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        ...(prepared.expectedServerCert === undefined ? {} : { expectedServerCert: prepared.expectedServerCert }),
      })
      // ManagementRequestSender.getResponse: a fault (any HTTP status) carries the central server's own code and text.
      let response: ManagementMessage
      try {
        response = parseManagementResponse(answer.body, answer.contentType, prepared.message)
      } catch (error) {
        if (error instanceof SoapFaultError) throw error
        if (answer.status < 200 || answer.status >= 300) {
          throw new SecurityServerError('http_error', `The central server answered HTTP ${answer.status}${answer.body.byteLength > 0 ? `: ${answer.body.toString('utf8', 0, 200)}` : ''}`)
        }
        throw error
      }
      return { prepared, requestId: response.requestId, response }
    },
  }
}

function requireProxy(deps: ManagementSenderDeps): string {
  const url = deps.clientProxyUrl()
  if (url === undefined) throw new SecurityServerError('network_error', 'The client proxy of this server is not listening, so management requests cannot be sent')
  return url
}

/** AuthCertRegRequest.verifyAuthCert: the certificate must parse and be within its validity period. */
function checkAuthCert(der: Buffer, now: Date): Buffer {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(der)
  } catch (cause) {
    throw clientError('cert_validation', 'Authentication certificate is invalid: not an X.509 certificate', { cause, detail: 'certificate' })
  }
  if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) {
    throw clientError('cert_validation', `Authentication certificate is invalid: valid ${cert.validFrom} – ${cert.validTo}`, { detail: 'certificate' })
  }
  return Buffer.from(cert.raw)
}
