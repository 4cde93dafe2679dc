import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describeIdentifier, globalGroupId, memberOf, serviceId, type ClientId, type SecurityServerId } from '@shared/domain/identifiers'
import { SECURITY_SERVER_OWNERS_GROUP, labPaths, openLab, type LabAuthority } from '../lab'
import { MANAGEMENT_SERVICE_CODES } from '../management'
import { SecurityServerError, clientError, type Clock } from '../platform'
import type { ClientRequestSender, ServerConf } from '../server-conf'

/**
 * The lab this server created on its own machine ("Create a lab" in the first-run wizard): `DATA_DIR/lab` with the
 * marker file `hosted-by-this-server.json`. Such a server is its own central server, so what would be a management
 * request to an operator (registering a client, deleting one) is approved in the lab at once.
 */
export const HOSTED_LAB_FILE = 'hosted-by-this-server.json'

export function hostedLabDir(dataDir: string): string | undefined {
  const dir = join(dataDir, 'lab')
  return existsSync(join(dir, HOSTED_LAB_FILE)) && existsSync(labPaths(dir).db) ? dir : undefined
}

/** Runs `work` on the hosted lab of `instance` (opened for this change only); false when this server hosts no such lab. */
function withHostedLab(dataDir: string, instance: string, clock: Clock, work: (lab: LabAuthority) => void): boolean {
  const dir = hostedLabDir(dataDir)
  if (dir === undefined) return false
  const lab = openLab(dir, { clock })
  try {
    if (lab.instance !== instance) return false
    work(lab)
    return true
  } finally {
    lab.close()
  }
}

export interface LabApproval {
  /** Hand to `registerClient`/`unregisterClient`: runs inside the state change, so a refusal leaves the state as it was. */
  send: ClientRequestSender
  /** True once the hosted lab approved; false when there is no hosted lab and the central server's operator must approve. */
  approved(): boolean
}

/**
 * The central server's side of pr-mserv `clientRegRequest` / `clientDeletionRequest` when this server hosts the lab:
 * registering adds the subsystem to its (registered) member if needed and lists the client on this server; unregistering
 * removes it from this server. The lab regenerates the signed configuration itself.
 */
export function hostedLabApproval(dataDir: string, serverId: SecurityServerId, kind: 'register' | 'unregister', clock: Clock): LabApproval {
  let approved = false
  return {
    approved: () => approved,
    send(client) {
      approved = withHostedLab(dataDir, serverId.xRoadInstance, clock, (lab) => {
        if (kind === 'unregister') {
          // Nothing to remove when the lab never listed the client here (e.g. registered before this lab existed).
          if (!lab.isRegistered(client.id)) return
          try {
            lab.removeClient(serverId, client.id)
          } catch (error) {
            if (!(error instanceof SecurityServerError && error.code === 'not_found')) throw error
          }
          return
        }
        const member = memberOf(client.id)
        if (!lab.isRegistered(member)) {
          throw clientError('unknown_member', `Member ${describeIdentifier(member)} is not registered in the lab on this machine: add the member in the lab first`, { detail: 'client' })
        }
        if (client.id.objectType === 'SUBSYSTEM' && !lab.isRegistered(client.id)) lab.addMember(member, member.memberCode, client.id.subsystemCode)
        try {
          lab.addClient(serverId, client.id)
        } catch (error) {
          // Listed on this server already (approved before): nothing left to approve.
          if (!(error instanceof SecurityServerError && error.code === 'conflict')) throw error
        }
      })
    },
  }
}

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
