import type { GlobalConf } from '../global-conf'
import { SecurityServerError } from '../platform'
import type { ListedClient, MetaserviceConfView } from '../proxy'
import { fetchDescription, type ServerConf } from '../server-conf'

/**
 * What the metaservices (PR-META, PR-MREST) read from the running server, at each request from the state of that
 * moment: the provider's services with their description, endpoints and access rights from server configuration,
 * group memberships from the global configuration in force, and descriptions read from their URLs.
 */
export function metaserviceConfView(serverConf: ServerConf, globalConf: () => GlobalConf | undefined): MetaserviceConfView {
  return {
    servicesOf: (provider) => serverConf.listServices(provider).map((s) => ({ serviceId: s.serviceId, type: s.descriptionType })),
    accessRightsFor: (id) => serverConf.accessRightsFor(id),
    localGroupMembers: (owner, code) => {
      try {
        return serverConf.localGroupMembers(owner, code)
      } catch (error) {
        // A right naming a group that no longer exists grants nothing (as the access check reads it).
        if (error instanceof SecurityServerError && error.code === 'not_found') return []
        throw error
      }
    },
    isGlobalGroupMember: (client, group) => globalConf()?.isInGlobalGroup(client, group) ?? false,
    descriptionOf: (id) => {
      const service = serverConf.findService(id)
      if (service === undefined) return undefined
      const description = serverConf.findServiceDescription(service.descriptionId)
      const document = description?.uploaded === true ? serverConf.serviceDescriptionDocument(service.descriptionId) : undefined
      return {
        type: service.descriptionType, url: description?.url ?? service.url, sslVerify: service.sslVerify, ...(document === undefined ? {} : { document }),
      }
    },
    download: (url, options) => fetchDescription(url, { ...options, timeoutMs: DESCRIPTION_TIMEOUT_MS }),
  }
}

/** How long a metaservice waits for a description's server (X-Road's metaservice HTTP client: 30 s connect/read). */
const DESCRIPTION_TIMEOUT_MS = 30_000

/**
 * `GlobalConfProvider.getMembers(instance)`: each member of the instance's shared parameters followed by its
 * subsystems, with the member's name and the subsystem's own; none for an instance this configuration lacks.
 */
export function listedClients(conf: GlobalConf | undefined, instance: string | undefined): ListedClient[] {
  if (conf === undefined) return []
  const shared = conf.getSharedParameters(instance ?? conf.instanceIdentifier)
  if (shared === undefined) return []
  return shared.members.flatMap((m) => [
    { id: m.id, name: m.name },
    ...m.subsystems.map((s) => ({ id: s.id, name: m.name, ...(s.name === undefined ? {} : { subsystemName: s.name }) })),
  ])
}
