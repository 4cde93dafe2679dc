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

/** A fault that arrived in a message: its code is the fault's own (prefixes go in front of it, as `withPrefix` does). */
export class SoapFaultError extends SecurityServerError {
  readonly faultActor: string | undefined
  readonly originalFaultCode: string

  constructor(fault: { faultCode: string; faultString: string; faultActor?: string; faultDetail?: string }, prefixes: readonly string[] = [], clientFault = false) {
    const leaf = fault.faultCode.split('.').pop() ?? ''
    super(isErrorCode(leaf) ? leaf : 'service_failed', fault.faultString, {
      prefixes, clientFault, ...(fault.faultDetail === undefined || fault.faultDetail === '' ? {} : { detail: fault.faultDetail }),
    })
    this.name = 'SoapFaultError'
    this.originalFaultCode = fault.faultCode
    this.faultActor = fault.faultActor
  }

  override get faultCode(): string {
    return [...this.prefixes, this.originalFaultCode].join('.')
  }

  override withPrefix(prefix: string): SecurityServerError {
    const copy = new SoapFaultError(
      { faultCode: this.originalFaultCode, faultString: this.message, ...(this.faultActor === undefined ? {} : { faultActor: this.faultActor }), ...(this.detail === undefined ? {} : { faultDetail: this.detail }) },
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
