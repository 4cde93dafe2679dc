import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { expect, it } from 'vitest'
import { globalGroupId, memberId, securityServerId, subsystemId } from '@shared/domain/identifiers'
import { GlobalConf, parseSharedParameters, readConfigurationDirectory, snapshotToJson } from '../../src-main/global-conf'
import { describeFixtures } from '../support/describe-fixtures'
import { FIXTURES_DIR, fixturePath, readFixture } from '../support/fixtures'

/**
 * Issue 17 item 3: a central server may list identifiers holding the characters X-Road only warns about
 * (`MessageProcessorBase.checkIdentifier`); they are read as X-Road reads them, and an identifier that is unusable even
 * so (a control character) leaves out that one entry, not the instance's whole configuration.
 */
const V3 = ['globalconf', 'parsed-dirs', 'globalconf_good_v3'] as const

const member = (xmlId: string, code: string, subsystems: Array<[string, string]> = []): string =>
  `<member id="${xmlId}"><memberClass><code>BUSINESS</code><description>1</description></memberClass>` +
  `<memberCode>${code}</memberCode><name>${xmlId}</name>` +
  subsystems.map(([id, sub]) => `<subsystem id="${id}"><subsystemCode>${sub}</subsystemCode></subsystem>`).join('') +
  '</member>'

function withEntries(extra: { members: string; servers: string; groupMembers: string }): string {
  return readFixture(...V3, 'EE', 'shared-params.xml').toString('utf8')
    .replace('<member id="producerId">', `${extra.members}<member id="producerId">`)
    .replace('<securityServer>', `${extra.servers}<securityServer>`)
    .replace('<groupCode>Test group</groupCode>\n        <description>Description</description>', `<groupCode>Test group</groupCode>\n        <description>Description</description>${extra.groupMembers}`)
}

describeFixtures('identifier characters in shared parameters (globalconf_good_v3 with added entries)', () => {
  it('reads members, subsystems and servers whose codes hold / \\ % : ; as X-Road does', () => {
    const xml = withEntries({
      members: member('oddId', 'odd/member;1', [['oddSubId', 's%2Fub:x']]),
      servers: '<securityServer><owner>oddId</owner><serverCode>ss\\1</serverCode><address>odd.example</address><client>oddSubId</client></securityServer>',
      groupMembers: '<groupMember id:objectType="MEMBER"><id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>BUSINESS</id:memberClass><id:memberCode>odd/member;1</id:memberCode></groupMember>',
    })
    const shared = parseSharedParameters(xml, 3)
    expect(shared.ignoredEntries).toEqual([])
    const odd = memberId('EE', 'BUSINESS', 'odd/member;1')
    const sub = subsystemId('EE', 'BUSINESS', 'odd/member;1', 's%2Fub:x')
    expect(shared.members.find((m) => m.id.memberCode === 'odd/member;1')?.subsystems.map((s) => s.id)).toEqual([sub])
    const server = shared.securityServers.find((s) => s.serverCode === 'ss\\1')
    expect(server?.id).toEqual(securityServerId(odd, 'ss\\1'))
    expect(server?.clients).toEqual([sub])
    expect(shared.globalGroups[0]?.members).toContainEqual(odd)
  })

  it('leaves out only the entry whose identifier is unusable, with everything naming it, and says why', () => {
    const xml = withEntries({
      members: member('badId', 'bad&#9;code', [['badSubId', 'sub']]) + member('okId', 'fine', [['okSubId', 'bad&#133;sub'], ['goodSubId', 'good']]),
      servers: '<securityServer><owner>badId</owner><serverCode>badServer</serverCode><client>okId</client></securityServer>' +
        '<securityServer><owner>okId</owner><serverCode>okServer</serverCode><client>badSubId</client><client>okSubId</client><client>goodSubId</client></securityServer>',
      groupMembers: '<groupMember id:objectType="MEMBER"><id:xRoadInstance>EE</id:xRoadInstance><id:memberClass>BUSINESS</id:memberClass><id:memberCode>x&#9;y</id:memberCode></groupMember>',
    })
    const shared = parseSharedParameters(xml, 3)
    const ok = memberId('EE', 'BUSINESS', 'fine')
    expect(shared.members.map((m) => m.id.memberCode)).not.toContain('bad\tcode')
    expect(shared.members.find((m) => m.id.memberCode === 'fine')?.subsystems.map((s) => s.subsystemCode)).toEqual(['good'])
    expect(shared.securityServers.map((s) => s.serverCode)).not.toContain('badServer')
    expect(shared.securityServers.find((s) => s.serverCode === 'okServer')?.clients).toEqual([subsystemId('EE', 'BUSINESS', 'fine', 'good')])
    // Everything else of the instance is kept.
    expect(shared.members.map((m) => m.id.memberCode)).toEqual(expect.arrayContaining(['producer', 'consumer', 'foo', 'fine']))
    expect(shared.securityServers.map((s) => s.serverCode)).toEqual(expect.arrayContaining(['producerServerCode', 'okServer']))
    expect(shared.globalGroups[0]?.id).toEqual(globalGroupId('EE', 'Test group'))
    expect(shared.globalGroups[0]?.members.length).toBeGreaterThan(0)
    expect(shared.ignoredEntries).toHaveLength(4)
    expect(shared.ignoredEntries.join('\n')).toMatch(/member BUSINESS\/bad\tcode left out: memberCode contains a control character/)
    expect(shared.ignoredEntries.join('\n')).toMatch(/security server badServer left out: its owner was left out/)
    expect(shared.ignoredEntries.join('\n')).toMatch(/a member of global group Test group left out/)
    const conf = new GlobalConf({ ...readConfigurationDirectory(fixturePath(...V3)), instances: new Map([['EE', { instanceIdentifier: 'EE', shared }]]) })
    expect(conf.isMemberOrSubsystem(ok)).toBe(true)
    expect((snapshotToJson(conf.snapshot) as { instances: Record<string, { shared: { ignoredEntries: string[] } }> }).instances.EE?.shared.ignoredEntries).toHaveLength(4)
  })

  it('still refuses a structurally malformed file (an IDREF to no entry at all)', () => {
    const xml = withEntries({ members: '', servers: '<securityServer><owner>nobodyId</owner><serverCode>x</serverCode></securityServer>', groupMembers: '' })
    expect(() => parseSharedParameters(xml, 3)).toThrow(/unknown member or subsystem 'nobodyId'/)
  })
})

/** Every shared-params.xml among the X-Road fixtures (found inside the test, never while declaring). */
function allSharedParams(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? allSharedParams(path) : name === 'shared-params.xml' ? [path] : []
  })
}

describeFixtures('identifier characters: every X-Road shared-params.xml fixture', () => {
  it('loses no entry of X-Road\'s own configurations (the malformed set excepted)', () => {
    const files = allSharedParams(fixturePath('globalconf')).filter((f) => !f.includes('globalconf_malformed'))
    expect(files.length).toBeGreaterThan(30)
    const losses = files.flatMap((file) => {
      try {
        const shared = parseSharedParameters(readFixture(relative(FIXTURES_DIR, file)))
        return shared.ignoredEntries.map((e) => `${relative(FIXTURES_DIR, file)}: ${e}`)
      } catch (error) {
        return [`${relative(FIXTURES_DIR, file)}: ${(error as Error).message}`]
      }
    })
    expect(losses).toEqual([])
  })
})
