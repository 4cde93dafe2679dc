import { randomBytes } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, readdirSync, readlinkSync, realpathSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clientId, serviceId, subsystemId } from '@shared/domain/identifiers'
import { closeDatabase, migrate, openDatabase, silentLogger, type Clock, type WritableDb } from '../../../src-main/platform'
import { createMessageLog, messageLogMigrations, type MessageLog, type MessageLogOptions, type MessageToLog } from '../../../src-main/message-log'

export const CLIENT = subsystemId('EE', 'GOV', '1234', 'client-sub')
export const PROVIDER = clientId('EE', 'COM', '5678', 'provider-sub')
export const SERVICE = serviceId(PROVIDER, 'getPerson', 'v1')

export function tempDir(prefix = 'gh-mlog-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/**
 * Makes every later write through this process's descriptor of `path` fail as on a full disk (Linux): the descriptor
 * is closed and /dev/full opened in its place, which takes the lowest free number — the same one. Whoever holds the
 * number (the message log's writer thread) writes on and gets ENOSPC.
 */
export function swapForDevFull(path: string): void {
  const target = realpathSync(path)
  const fds = readdirSync('/proc/self/fd').map(Number).filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === target
    } catch {
      return false
    }
  })
  if (fds.length !== 1) throw new Error(`expected one descriptor of ${target}, found ${fds.length}`)
  const fd = fds[0] as number
  closeSync(fd)
  const full = openSync('/dev/full', 'w')
  if (full !== fd) {
    closeSync(full)
    throw new Error(`/dev/full took descriptor ${full}, not ${fd}`)
  }
}

export function openMessageLogDb(path: string): WritableDb {
  const db = openDatabase(path, { synchronous: 'FULL' })
  migrate(db, [messageLogMigrations])
  return db
}

/** A signature document shaped like X-Road's, with a random SignatureValue (the single-stamp imprint input). */
export function signatureXmlFor(seed = randomBytes(8).toString('hex')): string {
  const value = randomBytes(256).toString('base64')
  return `<signatures xmlns="http://uri.etsi.org/2918/v1.2.1#"><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig-${seed}">` +
    `<ds:SignedInfo/><ds:SignatureValue Id="sig-${seed}-value">${value}</ds:SignatureValue></ds:Signature></signatures>`
}

export function soapMessage(queryId: string): Uint8Array {
  return Buffer.from(
    `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xroad="http://x-road.eu/xsd/xroad.xsd">` +
      `<SOAP-ENV:Header><xroad:id>${queryId}</xroad:id></SOAP-ENV:Header>` +
      `<SOAP-ENV:Body><getPerson><ssn>38001010000</ssn></getPerson></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
    'utf8',
  )
}

export function messageFor(queryId: string, overrides: Partial<MessageToLog> = {}): MessageToLog {
  return {
    queryId,
    xRequestId: `req-${queryId}`,
    client: CLIENT,
    service: SERVICE,
    response: false,
    message: soapMessage(queryId),
    attachments: [Buffer.from(`body of ${queryId}`)],
    signatureXml: signatureXmlFor(queryId),
    ...overrides,
  }
}

export interface Harness {
  dir: string
  dbPath: string
  /** The acknowledgement file, beside the database as in a data directory. */
  ackPath: string
  db: WritableDb
  log: MessageLog
  /** Stops the log, closes the database, runs `between` (to tamper with the files), opens both again. */
  reopen(options?: Partial<Omit<MessageLogOptions, 'db'>>, between?: () => void): Promise<void>
  close(): Promise<void>
}

export function createHarness(clock: Clock, options: Partial<Omit<MessageLogOptions, 'db' | 'clock' | 'logger'>> = {}): Harness {
  const dir = tempDir()
  const dbPath = join(dir, 'messagelog.sqlite')
  const ackPath = join(dir, 'messagelog.ack')
  const db = openMessageLogDb(dbPath)
  const harness: Harness = {
    dir,
    dbPath,
    ackPath,
    db,
    log: createMessageLog({ db, clock, logger: silentLogger(), ackFile: ackPath, ...options }),
    async reopen(more = {}, between) {
      await harness.log.stop()
      closeDatabase(harness.db)
      between?.()
      harness.db = openMessageLogDb(dbPath)
      harness.log = createMessageLog({ db: harness.db, clock, logger: silentLogger(), ackFile: ackPath, ...options, ...more })
    },
    async close() {
      await harness.log.stop()
      closeDatabase(harness.db)
    },
  }
  return harness
}
