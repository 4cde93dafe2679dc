import { memberId } from '@shared/domain/identifiers'

/** What the verification-cache tests share: the CA profile, the signing member, the messages and how an outcome is read. */

export const EJBCA = 'ee.ria.xroad.common.certificateprofile.impl.EjbcaCertificateProfileInfoProvider'
export const member = memberId('DEV', 'COM', '1234')

export const message = (i: number): Buffer =>
  Buffer.from(`<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><n>${i}</n></env:Body></env:Envelope>`)

/** The fault code `fn` throws with, or 'no error'. */
export function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    return (error as { faultCode?: string }).faultCode ?? String(error)
  }
  return 'no error'
}

/** The fault code and message `fn` throws with, or 'no error'. */
export function failureOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    return `${(error as { faultCode?: string }).faultCode}: ${(error as Error).message}`
  }
  return 'no error'
}
