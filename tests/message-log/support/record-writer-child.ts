import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { clientId, serviceId, subsystemId } from '@shared/domain/identifiers'
import { migrate, openDatabase, silentLogger, systemClock } from '../../../src-main/platform'
import { createMessageLog, messageLogMigrations } from '../../../src-main/message-log'

/**
 * Child process for the "loses no data" tests: writes records under bounded load (a fixed number in flight) into the
 * message log at argv[2] (with its acknowledgement file `messagelog.ack` beside it, as in a data directory) and prints
 * `ack <queryId> <recordId>` only after `record()` resolved. The parent kills it with SIGKILL at a random moment and
 * checks every acknowledged record survived.
 */
const [dbPath, prefix = 'run', inFlightArg = '8'] = process.argv.slice(2)
if (dbPath === undefined) {
  process.stderr.write('usage: record-writer-child DB [PREFIX] [IN_FLIGHT]\n')
  process.exit(2)
}
const db = openDatabase(dbPath, { synchronous: 'FULL' })
migrate(db, [messageLogMigrations])
const log = createMessageLog({
  db, clock: systemClock, logger: silentLogger(), settings: { acceptableTimestampFailurePeriodSeconds: 0 }, ackFile: join(dirname(dbPath), 'messagelog.ack'),
})
const client = subsystemId('EE', 'GOV', '1234', 'client-sub')
const service = serviceId(clientId('EE', 'COM', '5678', 'provider-sub'), 'getPerson')
let n = 0

async function worker(): Promise<void> {
  for (;;) {
    const queryId = `${prefix}-${n++}`
    const id = await log.record({
      queryId, xRequestId: queryId, client, service, response: n % 2 === 0,
      message: Buffer.from(`<m>${queryId}</m>`), attachments: [randomBytes(512 + (n % 7) * 1024)],
      signatureXml: `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>${randomBytes(64).toString('base64')}</ds:SignatureValue></ds:Signature>`,
    })
    process.stdout.write(`ack ${queryId} ${id}\n`)
  }
}

process.stdout.write('ready\n')
for (let i = 0; i < Number(inFlightArg); i++) void worker()
