import { globalGroupId, serviceId, type ClientId } from '@shared/domain/identifiers'
import { SECURITY_SERVER_OWNERS_GROUP } from '../lab'
import { MANAGEMENT_SERVICE_CODES } from '../management'
import type { ServerConf } from '../server-conf'

/**
 * The lab this server created on its own machine ("Create a lab" in the first-run wizard): `DATA_DIR/lab` with the
 * marker file `hosted-by-this-server.json`. Such a server is still a security server like any other towards the lab:
 * its clients are registered with management requests (`management.*`), which the lab's management service answers.
 */
export const HOSTED_LAB_FILE = 'hosted-by-this-server.json'

/**
 * The management security server's own configuration (X-Road: the central server's management services on its
 * management security server): the provider subsystem as a client, the management services of pr-mserv Annex B as one
 * WSDL description whose operations all go to the lab's management service URL, open to the security server owners'
 * global group. authCertReg is not among them (it goes to the lab over HTTPS). Running it again changes nothing.
 */
export function configureManagementServices(serverConf: ServerConf, provider: ClientId, serviceUrl: string): void {
  if (serverConf.findClient(provider) === undefined) serverConf.addClient(provider, 'REGISTERED')
  const codes = MANAGEMENT_SERVICE_CODES.filter((code) => code !== 'authCertReg')
  const description = serverConf.listServiceDescriptions(provider).find((d) => d.url === serviceUrl)
    ?? serverConf.addWsdlDescription(provider, serviceUrl, codes.map((code) => ({ code, url: serviceUrl })))
  if (description.disabled) serverConf.setServiceDescriptionEnabled(description.id, true)
  for (const code of codes) serverConf.grantAccess(serviceId(provider, code), globalGroupId(provider.xRoadInstance, SECURITY_SERVER_OWNERS_GROUP))
}
