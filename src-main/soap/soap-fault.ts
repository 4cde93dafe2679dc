import { isErrorCode } from '@shared/error-codes'
import { SecurityServerError, toSecurityServerError } from '../platform'
import type { SoapFault } from './soap-parser'

/**
 * SOAP faults (PR-MESS §2.5, Annex D; xroad-protocols.md §3.4; X-Road's `SoapFault`, `CodedException.Fault`): the
 * exact XML X-Road writes for an error, and a fault read from a message turned into the one error model — a
 * {@link SecurityServerError} that keeps the fault's own code, actor and detail (X-Road forwards a service's fault
 * code as it is, e.g. `CODE` or `soap:Server`, with its string, actor and detail).
 */
export function soapFaultXml(faultCode: string, faultString: string, detail: string, faultActor = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>${escapeXml(faultCode)}</faultcode><faultstring>${escapeXml(faultString)}</faultstring>` +
    `<faultactor>${escapeXml(faultActor)}</faultactor><detail><faultDetail xmlns="">${escapeXml(detail)}</faultDetail></detail></SOAP-ENV:Fault>` +
    '</SOAP-ENV:Body></SOAP-ENV:Envelope>'
  )
}

/**
 * A fault that arrived in a message: its dotted code is kept as written — the part before the last dot as prefixes
 * (as `withPrefix` would have put them), the last part as the leaf, which is the error's `code` when the catalogue
 * knows it (`service_failed` otherwise, for the error model; the answer carries the leaf as written).
 */
export class SoapFaultError extends SecurityServerError {
  readonly faultActor: string | undefined
  /** The last part of the fault code as written (e.g. `CODE`, `Server`, `access_denied`). */
  readonly leaf: string

  constructor(fault: { faultCode: string; faultString: string; faultActor?: string; faultDetail?: string }, prefixes: readonly string[] = [], clientFault = false) {
    const parts = fault.faultCode.split('.')
    const leaf = parts.pop() ?? ''
    super(isErrorCode(leaf) ? leaf : 'service_failed', fault.faultString, {
      prefixes: [...prefixes, ...parts], clientFault,
      ...(fault.faultDetail === undefined || fault.faultDetail === '' ? {} : { detail: fault.faultDetail }),
    })
    this.name = 'SoapFaultError'
    this.leaf = leaf
    this.faultActor = fault.faultActor
  }

  override get faultCode(): string {
    return [...this.prefixes, this.leaf].join('.')
  }

  override withPrefix(prefix: string): SecurityServerError {
    const copy = new SoapFaultError(
      { faultCode: this.leaf, faultString: this.message, ...(this.faultActor === undefined ? {} : { faultActor: this.faultActor }), ...(this.detail === undefined ? {} : { faultDetail: this.detail }) },
      [prefix, ...this.prefixes],
      this.clientFault,
    )
    copy.stack = this.stack
    return copy
  }
}

/** The fault as an error (X-Road's `SoapFault.toCodedException`). */
export function faultError(fault: SoapFault): SoapFaultError {
  return new SoapFaultError(fault)
}

/** The full fault code an error is answered with: a fault read from a message keeps its code; others get `client.`/`server.` when no origin yet (§2.6). */
export function faultCodeOf(error: unknown): string {
  const coded = toSecurityServerError(error)
  if (coded instanceof SoapFaultError || coded.prefixes.length > 0) return coded.faultCode
  return coded.clientFault ? `client.${coded.code}` : `server.${coded.code}`
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string)
}
