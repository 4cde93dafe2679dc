import { describeIdentifier } from '@shared/domain/identifiers'
import { logFailure, type Logger } from '../platform'
import type { GlobalConf } from '../global-conf'
import { followOwnerChange, settleWithGlobalConf } from '../management'
import type { SecurityServerCore } from './security-server-core'
import { ownServerId } from './traffic-readiness'

/**
 * Registration states follow global configuration, as X-Road's `GlobalConfChecker` does on every download: a client
 * (SAVED, REGISTRATION_IN_PROGRESS) that the instance lists on this server becomes REGISTERED; an authentication certificate (saved) whose hash the instance lists for this
 * server becomes registered, which makes it the server's TLS key (X-Road's `automatic-activate-auth-certificate`); after
 * an approved ownerChange the server takes its new owner (see `followOwnerChange`).
 * Returns what changed, for the log.
 */
export function syncRegistrationStates(core: SecurityServerCore, conf: GlobalConf, logger: Logger): string[] {
  const current = ownServerId(core)
  if (current === undefined) return []
  const changed: string[] = []
  try {
    // An approved ownerChange first: every state below is read for the server id in force.
    const owner = followOwnerChange(core, conf, current)
    if (owner.changed !== undefined) changed.push(owner.changed)
    const serverId = owner.serverId
    for (const client of core.serverConf.listClients()) {
      const registered = conf.isSecurityServerClient(client.id, serverId)
      if (registered && (client.state === 'SAVED' || client.state === 'REGISTRATION_IN_PROGRESS')) {
        core.serverConf.setClientState(client.id, 'REGISTERED')
        changed.push(`client ${describeIdentifier(client.id)} registered`)
      }
      // A client in DELETION_IN_PROGRESS keeps that state once the instance drops it, as in X-Road: it may then be
      // deleted here.
    }
    const authKeys = new Set(core.signer.listKeys().filter((k) => k.usage === 'auth').map((k) => k.id))
    for (const cert of core.signer.listCertificates()) {
      if (!authKeys.has(cert.keyId) || cert.state !== 'saved') continue
      if (conf.authCertHashMatches(serverId, cert.certDer)) {
        core.signer.setCertificateState(cert.id, 'registered')
        changed.push(`authentication certificate ${cert.subject} registered`)
      }
    }
    // Management requests this server sent: disable/enable/deletion/renames/address/maintenance/owner confirmed.
    changed.push(...settleWithGlobalConf({ db: core.databases.serverConf, serverConf: core.serverConf, signer: core.signer, clock: core.clock }, conf, serverId))
  } catch (error) {
    logFailure(logger, error, {}, 'updating registration states from global configuration failed')
  }
  if (changed.length > 0) logger.info({ changed }, 'registration states follow global configuration')
  return changed
}
