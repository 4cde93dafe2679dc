import { describe, expect, it } from 'vitest'
import { globalGroupId, memberId, securityServerId, subsystemId, type ClientId, type MemberId } from '@shared/domain/identifiers'
import { GlobalConf } from '../../src-main/global-conf'
import type { Member, SecurityServer, SharedParameters } from '../../src-main/global-conf/conf-model'

/**
 * The per-message lookups of global configuration — a provider's servers, whether a client is a member, a global
 * group's members — come from indexes built once per snapshot (issue 15); they answer exactly as the scans they
 * replace, in the configuration's order, and with thousands of servers.
 */
const GOV = { code: 'GOV', description: 'Government' }

function member(code: string, subsystems: string[] = []): Member {
  const id = memberId('EE', 'GOV', code)
  return { id, memberClass: GOV, name: `Member ${code}`, subsystems: subsystems.map((s) => ({ id: subsystemId('EE', 'GOV', code, s), subsystemCode: s })) }
}

function server(owner: MemberId, code: string, clients: ClientId[]): SecurityServer {
  return { id: securityServerId(owner, code), owner, serverCode: code, address: `${code}.example`, authCertHashes: [], authCertHashAlgorithm: 'sha256', clients, inMaintenanceMode: false }
}

function confOf(shared: Partial<SharedParameters>): GlobalConf {
  const full: SharedParameters = {
    version: 3, instanceIdentifier: 'EE', sources: [], approvedCas: [], approvedTsas: [], members: [], securityServers: [], globalGroups: [],
    centralServices: [], memberClasses: [GOV], ocspFreshnessSeconds: 600, ignoredEntries: [], ...shared,
  }
  return new GlobalConf({ instanceIdentifier: 'EE', instances: new Map([['EE', { instanceIdentifier: 'EE', shared: full }]]), ocspFetchIntervalSeconds: 1200, verifyNextUpdate: true })
}

describe('global configuration lookups by index', () => {
  const a = memberId('EE', 'GOV', 'A')
  const b = memberId('EE', 'GOV', 'B')
  const aSub = subsystemId('EE', 'GOV', 'A', 'sub')
  const conf = confOf({
    members: [member('A', ['sub']), member('B'), { ...member('A'), name: 'A listed twice' }],
    securityServers: [
      // A server listing its own owner as a client is still one server for it.
      server(a, 'ss1', [a, aSub]),
      server(b, 'ss2', [aSub]),
      server(b, 'ss3', []),
    ],
    globalGroups: [
      { id: globalGroupId('EE', 'g'), description: '', members: [aSub, b] },
      { id: globalGroupId('EE', 'g'), description: 'a second group of the same code', members: [a] },
    ],
  })

  it("finds a provider's servers in the configuration's order, each once, and hands out a copy", () => {
    expect(conf.getSecurityServers(a).map((s) => s.serverCode)).toEqual(['ss1'])
    expect(conf.getSecurityServers(aSub).map((s) => s.serverCode)).toEqual(['ss1', 'ss2'])
    expect(conf.getSecurityServers(b).map((s) => s.serverCode)).toEqual(['ss2', 'ss3'])
    expect(conf.getSecurityServers(subsystemId('EE', 'GOV', 'B', 'sub'))).toEqual([])
    expect(conf.getSecurityServers(subsystemId('FI', 'GOV', 'A', 'sub'))).toEqual([])
    conf.getSecurityServers(aSub).length = 0
    expect(conf.getSecurityServers(aSub)).toHaveLength(2)
  })

  it('finds members (the first listed) and their subsystems, and global group members as listed (the first group of a code)', () => {
    expect(conf.findMember(aSub)?.name).toBe('Member A')
    expect(conf.isMemberOrSubsystem(aSub)).toBe(true)
    expect(conf.isMemberOrSubsystem(subsystemId('EE', 'GOV', 'B', 'sub'))).toBe(false)
    expect(conf.isMemberOrSubsystem(memberId('EE', 'GOV', 'C'))).toBe(false)
    expect(conf.isInGlobalGroup(aSub, globalGroupId('EE', 'g'))).toBe(true)
    expect(conf.isInGlobalGroup(b, globalGroupId('EE', 'g'))).toBe(true)
    // A member is not its subsystems, nor a subsystem its member.
    expect(conf.isInGlobalGroup(a, globalGroupId('EE', 'g'))).toBe(false)
    expect(conf.isInGlobalGroup(subsystemId('EE', 'GOV', 'B', 'x'), globalGroupId('EE', 'g'))).toBe(false)
    expect(conf.isInGlobalGroup(aSub, globalGroupId('EE', 'other'))).toBe(false)
  })

  it('routes among 3 000 servers of 5 clients each as a scan would', () => {
    const owners = Array.from({ length: 3000 }, (_, i) => memberId('EE', 'GOV', `m${i}`))
    const big = confOf({
      members: owners.map((o) => member(o.memberCode, ['s0', 's1', 's2', 's3', 's4'])),
      securityServers: owners.map((o, i) => server(o, `ss${i}`, ['s0', 's1', 's2', 's3', 's4'].map((s) => subsystemId('EE', 'GOV', owners[(i + 1) % 3000]!.memberCode, s)))),
    })
    const provider = subsystemId('EE', 'GOV', 'm0', 's3')
    expect(big.getSecurityServers(provider).map((s) => s.serverCode)).toEqual(['ss2999'])
    expect(big.getSecurityServers(owners[1500]!).map((s) => s.serverCode)).toEqual(['ss1500'])
    expect(big.isMemberOrSubsystem(subsystemId('EE', 'GOV', 'm2999', 's4'))).toBe(true)
  })
})
