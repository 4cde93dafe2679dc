import * as yazl from 'yazl'
import { expect, it } from 'vitest'
import { readConfigurationDirectory, type GlobalConfSnapshot } from '../../src-main/global-conf'
import { asicTrustFromGlobalConf, readAsicContainer, verifyAsicContainer, type AsicTrustInput } from '../../src-main/signature'
import { describeFixtures } from '../support/describe-fixtures'
import { fixturePath, readFixture } from '../support/fixtures'

/**
 * Issue 17 items 16 and 17: containers read as X-Road's `AsicHelper`/`AsicContainer` read them and verified in the
 * order of its `AsicContainerVerifier`, each failure with X-Road's code. The containers are X-Road's own
 * (asic/asic-verifier-cli, verification configuration globalconf_good2_v3) with single entries changed.
 */

type Entries = Array<[string, Buffer]>

async function entriesOf(file: string): Promise<Entries> {
  const asic = await readAsicContainer(readFixture('asic/asic-verifier-cli', file))
  return asic.order.map((name) => [name, asic.entries.get(name) as Buffer])
}

function zipOf(entries: Entries): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, data] of entries) zip.addBuffer(data, name, { compress: true, mtime: new Date(2026, 0, 1), forceDosTimestamp: true })
  zip.end()
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c))
    zip.outputStream.on('error', reject)
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)))
  })
}

const without = (entries: Entries, ...names: string[]): Entries => entries.filter(([n]) => !names.includes(n))
const replaced = (entries: Entries, name: string, data: Buffer | string): Entries =>
  entries.map(([n, d]) => [n, n === name ? Buffer.from(data) : d])
const added = (entries: Entries, name: string, data: Buffer): Entries => [...entries, [name, data]]

async function codeOf(container: Buffer, trust: AsicTrustInput): Promise<string> {
  try {
    await verifyAsicContainer(container, trust)
    return 'valid'
  } catch (error) {
    return (error as { faultCode?: string }).faultCode ?? String(error)
  }
}

describeFixtures('ASiC-E reading and verification in X-Road\'s order (asic/asic-verifier-cli)', () => {
  let snapshotCache: GlobalConfSnapshot | undefined
  const snapshot = (): GlobalConfSnapshot => (snapshotCache ??= readConfigurationDirectory(fixturePath('globalconf/parsed-dirs/globalconf_good2_v3')))
  const trust = (): AsicTrustInput => asicTrustFromGlobalConf(snapshot())
  const batch = () => entriesOf('valid-batch-ts.asice')
  const single = () => entriesOf('valid-signed-message.asice')

  it('the unchanged containers verify through the snapshot trust (AsicContainerVerifierTest)', async () => {
    expect(await codeOf(await zipOf(await batch()), trust())).toBe('valid')
    expect(await codeOf(await zipOf(await single()), trust())).toBe('valid')
  })

  it('ASiCManifest is optional and its digest is never checked (AsicContainerVerifier)', async () => {
    expect(await codeOf(await zipOf(without(await batch(), 'META-INF/ASiCManifest.xml')), trust())).toBe('valid')
    const manifest = (await batch()).find(([n]) => n === 'META-INF/ASiCManifest.xml')?.[1].toString('utf8') ?? ''
    const wrongDigest = manifest.replace(/<ds:DigestValue>[^<]+</, '<ds:DigestValue>AAAA<')
    expect(wrongDigest).not.toBe(manifest)
    expect(await codeOf(await zipOf(replaced(await batch(), 'META-INF/ASiCManifest.xml', wrongDigest)), trust())).toBe('valid')
    expect(await codeOf(await zipOf(replaced(await batch(), 'META-INF/ASiCManifest.xml', ' \n')), trust())).toBe('asic_manifest_not_found')
    expect(await codeOf(await zipOf(replaced(await batch(), 'META-INF/manifest.xml', '')), trust())).toBe('asic_manifest_not_found')
  })

  it('blank entries count as missing (AsicHelper isBlank)', async () => {
    expect(await codeOf(await zipOf(replaced(await single(), 'mimetype', '  ')), trust())).toBe('asic_mime_type_not_found')
    expect(await codeOf(await zipOf(replaced(await single(), 'message.xml', '\r\n')), trust())).toBe('asic_message_not_found')
    expect(await codeOf(await zipOf(replaced(await single(), 'META-INF/signatures.xml', ' ')), trust())).toBe('asic_signature_not_found')
    expect(await codeOf(await zipOf(replaced(await batch(), 'ts-hashchain.xml', '')), trust())).toBe('asic_hash_chain_not_found')
    expect(await codeOf(await zipOf(replaced(await batch(), 'ts-hashchainresult.xml', '\n')), trust())).toBe('asic_hash_chain_result_not_found')
    expect(await codeOf(await zipOf(replaced(await batch(), 'META-INF/timestamp.tst', Buffer.alloc(0))), trust())).toBe('asic_timestamp_not_found')
  })

  it('checks the mimetype\'s presence, then its value (case-insensitive), before message.xml', async () => {
    expect(await codeOf(await zipOf(without(await single(), 'mimetype', 'message.xml')), trust())).toBe('asic_mime_type_not_found')
    expect(await codeOf(await zipOf(without(replaced(await single(), 'mimetype', 'text/plain'), 'message.xml')), trust())).toBe('asic_invalid_mime_type')
    expect(await codeOf(await zipOf(replaced(await single(), 'mimetype', 'APPLICATION/VND.ETSI.ASIC-E+ZIP')), trust())).toBe('valid')
  })

  it('only the hash-chain files come in pairs: the batch time-stamp token alone may be missing', async () => {
    expect(await codeOf(await zipOf(without(await batch(), 'ts-hashchain.xml')), trust())).toBe('asic_hash_chain_not_found')
    expect(await codeOf(await zipOf(without(await batch(), 'ts-hashchainresult.xml')), trust())).toBe('asic_hash_chain_result_not_found')
    // No timestamp.tst: the token is looked for in the signature, which holds none (X-Road: "Could not find element").
    expect(await codeOf(await zipOf(without(await batch(), 'META-INF/timestamp.tst')), trust())).toBe('malformed_signature')
  })

  it('a standalone timestamp.tst is a single time-stamp over the SignatureValue and overrides the embedded one', async () => {
    const batchToken = (await batch()).find(([n]) => n === 'META-INF/timestamp.tst')?.[1] as Buffer
    // The batch token stamps a ts-hashchainresult, not this signature's value: "Timestamp hashes do not match".
    expect(await codeOf(await zipOf(added(await single(), 'META-INF/timestamp.tst', batchToken)), trust())).toBe('malformed_signature')
    // The batch container without its time-stamp hash chain: the token is now read as a single time-stamp.
    expect(await codeOf(await zipOf(without(await batch(), 'ts-hashchain.xml', 'ts-hashchainresult.xml')), trust())).toBe('malformed_signature')
  })

  it('a signature referencing neither /message.xml nor /sig-hashchainresult.xml is malformed_signature before the time-stamp', async () => {
    const entries = await single()
    const xml = entries.find(([n]) => n === 'META-INF/signatures.xml')?.[1].toString('utf8') ?? ''
    const renamed = xml.replace('URI="/message.xml"', 'URI="/other.xml"')
    expect(renamed).not.toBe(xml)
    const noTsas: AsicTrustInput = { ...asicTrustFromGlobalConf(snapshot()), timestampTrust: { ...asicTrustFromGlobalConf(snapshot()).timestampTrust, approvedTsas: [] } }
    expect(await codeOf(await zipOf(replaced(entries, 'META-INF/signatures.xml', renamed)), noTsas)).toBe('malformed_signature')
  })

  it('verifies the time-stamp hash chain (malformed_signature) before looking for the TSA', async () => {
    const entries = await batch()
    const chain = entries.find(([n]) => n === 'ts-hashchain.xml')?.[1].toString('utf8') ?? ''
    const broken = chain.replace(/<DigestValue>[^<]+</, '<DigestValue>AAAA<')
    expect(broken).not.toBe(chain)
    const noTsas: AsicTrustInput = { ...asicTrustFromGlobalConf(snapshot()), timestampTrust: { ...asicTrustFromGlobalConf(snapshot()).timestampTrust, approvedTsas: [] } }
    expect(await codeOf(await zipOf(replaced(entries, 'ts-hashchain.xml', broken)), noTsas)).toBe('malformed_signature')
    expect(await codeOf(await zipOf(entries), noTsas)).toBe('mlog.no_timestamping_provider_found')
  })

  it('takes time-stamping authorities from every instance, before the signer\'s instance is looked up (federated evidence)', async () => {
    const snap = snapshot()
    const dev = snap.instances.get('DEV')
    expect(dev?.shared.approvedTsas.length).toBeGreaterThan(0)
    // The TSA is approved only by a partner instance FED; the signer's instance DEV approves none.
    const federated: GlobalConfSnapshot = {
      ...snap,
      instances: new Map([
        ['DEV', { ...dev!, shared: { ...dev!.shared, approvedTsas: [] } }],
        ['FED', { ...dev!, instanceIdentifier: 'FED', shared: { ...dev!.shared, instanceIdentifier: 'FED', approvedCas: [] } }],
      ]),
    }
    expect(await codeOf(await zipOf(await batch()), asicTrustFromGlobalConf(federated))).toBe('valid')
    expect(await codeOf(await zipOf(await single()), asicTrustFromGlobalConf(federated))).toBe('valid')
    // No instance approves it: X-Road's TimestampVerifier code, not the signer instance's configuration error.
    const none: GlobalConfSnapshot = { ...federated, instances: new Map([['DEV', federated.instances.get('DEV')!]]) }
    expect(await codeOf(await zipOf(await batch()), asicTrustFromGlobalConf(none))).toBe('mlog.no_timestamping_provider_found')
    const otherTsa: GlobalConfSnapshot = {
      ...federated,
      instances: new Map([
        ['DEV', federated.instances.get('DEV')!],
        ['FED', { ...federated.instances.get('FED')!, shared: { ...federated.instances.get('FED')!.shared, approvedTsas: [{ name: 'x', url: 'http://x', cert: dev!.shared.approvedCas[0]!.topCa.cert }] } }],
      ]),
    }
    expect(await codeOf(await zipOf(await batch()), asicTrustFromGlobalConf(otherTsa))).toBe('mlog.tsp_certificate_not_found')
  })

  it('reads the signer from the message without any configuration; an unreadable message is internal_error', async () => {
    const unknownInstance: AsicTrustInput = {
      ...asicTrustFromGlobalConf(snapshot()),
      forInstance: () => {
        throw new Error('the signer instance is needed only for the signature')
      },
    }
    const tsaFailure: AsicTrustInput = { ...unknownInstance, timestampTrust: { ...asicTrustFromGlobalConf(snapshot()).timestampTrust, approvedTsas: [] } }
    expect(await codeOf(await zipOf(await batch()), tsaFailure)).toBe('mlog.no_timestamping_provider_found')
    expect(await codeOf(await zipOf(replaced(await single(), 'message.xml', 'not a message')), trust())).toBe('internal_error')
  })
})
