import { z } from 'zod'
import { validateIdentifierPart } from '@shared/domain/identifiers'
import type { InitializationApi, InitializationStatus } from '@shared/admin-api/admin-api'
import { parseConfigurationAnchor, type ParsedAnchor } from '../global-conf'
import { clientError, logFailure, type Logger } from '../platform'
import { SOFTWARE_TOKEN_ID } from '../signer'
import { validate } from './admin-validation'
import { encodeId, parseMemberRef, type DomainsOf } from './domain-support'

/**
 * Initialization (UG-SS §3): import a configuration anchor and confirm its hash, set the owner member and server
 * code, create the software token. The anchor is parsed and shown first and stored only once the operator has
 * confirmed the hash (PR-GCONF §2.2).
 */
const MAX_ANCHOR_CHARS = 1024 * 1024

const anchorXml = z.string().min(1, 'paste or upload the anchor file').max(MAX_ANCHOR_CHARS, 'the anchor file is too large')

const initializeSchema = z
  .object({
    anchorXml,
    confirmedHash: z.string().min(1, 'confirm the anchor hash').max(200),
    owner: z.string().min(1).max(1000),
    serverCode: z.string().min(1, 'give the server code').max(255),
    softwareTokenPin: z.string().min(1).max(512).optional(),
  })
  .strict()

const normalizeHash = (hash: string): string => hash.replace(/[^0-9a-fA-F]/g, '').toUpperCase()

export function createInitializationAdmin(domains: DomainsOf, logger: Logger): InitializationApi {
  const parseAnchor = (xml: unknown): ParsedAnchor => parseConfigurationAnchor(validate(anchorXml, xml, 'anchor'))

  const status = async (): Promise<InitializationStatus> => {
    const { serverConf, signer } = domains()
    const identity = serverConf.identity()
    const anchor = serverConf.anchorFile()
    let instance = ''
    let hash = ''
    if (anchor !== undefined) {
      const parsed = parseConfigurationAnchor(anchor.content)
      instance = parsed.instanceIdentifier
      hash = parsed.hash
    }
    const tokens = await signer.listTokens()
    return {
      initialized: identity !== undefined,
      owner: identity === undefined ? null : encodeId(identity.owner),
      serverCode: identity?.serverId.serverCode ?? null,
      serverId: identity === undefined ? null : encodeId(identity.serverId),
      anchor: anchor === undefined ? null : { instance, hash, storedAt: anchor.storedAt },
      softwareTokenInitialized: tokens.some((t) => t.id === SOFTWARE_TOKEN_ID),
    }
  }

  return {
    status,
    async importAnchor(xml) {
      const parsed = parseAnchor(xml)
      return {
        instance: parsed.instanceIdentifier,
        hash: parsed.hash,
        generatedAt: parsed.generatedAt?.toISOString() ?? null,
        sources: parsed.sources.map((s) => s.downloadUrl),
      }
    },
    async initialize(input) {
      const value = validate(initializeSchema, input, 'initialization')
      const { serverConf, signer, globalConf } = domains()
      const anchor = parseAnchor(value.anchorXml)
      if (normalizeHash(value.confirmedHash) !== normalizeHash(anchor.hash)) {
        throw clientError('validation_failed', 'The confirmed hash is not the hash of this anchor; check the anchor file and confirm its hash again', { detail: 'confirmedHash' })
      }
      const owner = parseMemberRef(value.owner, 'owner')
      if (owner.xRoadInstance !== anchor.instanceIdentifier) {
        throw clientError('validation_failed', `The owner must be a member of instance ${anchor.instanceIdentifier}, the anchor's instance`, { detail: 'owner' })
      }
      let serverCode: string
      try {
        serverCode = validateIdentifierPart('serverCode', value.serverCode.trim())
      } catch (error) {
        throw clientError('validation_failed', `Invalid server code: ${(error as Error).message}`, { detail: 'serverCode', cause: error })
      }
      if (serverConf.identity() !== undefined) throw clientError('already_initialized', 'The security server is already initialized')
      const hasSoftwareToken = (await signer.listTokens()).some((t) => t.id === SOFTWARE_TOKEN_ID)
      if (!hasSoftwareToken && value.softwareTokenPin === undefined) {
        throw clientError('validation_failed', 'Give a PIN for the software token', { detail: 'softwareTokenPin' })
      }
      // The token first: a PIN refused by the policy leaves nothing half-initialized.
      if (!hasSoftwareToken && value.softwareTokenPin !== undefined) await signer.initSoftwareToken(value.softwareTokenPin)
      serverConf.initialize(owner, serverCode, { sourcePath: 'admin-upload', content: new Uint8Array(Buffer.from(value.anchorXml, 'utf8')) })
      try {
        await globalConf.reloadAnchor()
      } catch (error) {
        // The identity is stored; the global configuration status page shows the download problem.
        logFailure(logger, error, {}, 'global configuration could not be started after initialization')
      }
      return status()
    },
  }
}
