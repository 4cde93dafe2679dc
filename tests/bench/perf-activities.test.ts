import { describe, expect, it } from 'vitest'
import { activityOf, activityProfile, activityTable } from '../../scripts/profile/perf-activities'

/** Samples as `perf script -F tid,ip,sym,dso` prints them: the thread, then the stack from the leaf out. */
const SCRIPT = [
  '100 \n\t 1514dbd Builtins_KeyedLoadIC_Megamorphic+0x133d (/usr/bin/node)\n\t 7f1f03ab4829 JS:*verifyPeer /srv/out/main/chunks/server-A.js:20:27+0xee9 (/tmp/perf-100.map)\n\t 7f1f03aab8a7 JS:*onceWrapper node:events:633:21+0x1e7 (/tmp/perf-100.map)',
  '100 \n\t 7f1f03a61395 JS:*tokenize /srv/out/main/chunks/server-A.js:12:3+0x2d5 (/tmp/perf-100.map)',
  '100 \n\t 194d091 sha512_block_data_order_avx2 (/usr/bin/node)\n\t 32caab7b40c72493 [unknown] ([unknown])',
  '100 \n\t 7f1f03ad0f90 JS:*addChunk node:internal/streams/readable:550:18+0x190 (/tmp/perf-100.map)',
  '100 \n\t a1 v8::internal::Scavenger::ScavengeObject (/usr/bin/node)',
  '101 \n\t 77 walChecksumBytes (/srv/node_modules/better-sqlite3/build/Release/better_sqlite3.node)',
  '102 \n\t 88 v8::internal::compiler::GraphReducer::ReduceTop (/usr/bin/node)',
].join('\n\n')

const MODULES: Record<number, string> = { 12: 'src-main/signature/xml-lexical.ts', 20: 'src-main/proxy/http/peer-client.ts' }

describe('on-CPU time by activity from perf samples (profile-pair --perf)', () => {
  const profile = activityProfile(SCRIPT, 100, (path, line) => (path.includes('/out/main/') ? MODULES[line] : undefined))

  it('charges each sample to its thread, and a main-thread sample to its innermost Gatehouse frame', () => {
    expect(profile.samples).toBe(7)
    expect(Object.fromEntries(profile.threads)).toEqual({ main: 5, 'message-log writer': 1, 'V8 and libuv threads': 1 })
    expect(Object.fromEntries(profile.activities)).toEqual({
      'HTTP/TLS and bodies': 1,
      'signature documents and hash chains': 1,
      'OpenSSL digests and ciphers (caller not on record)': 1,
      'HTTP/TLS (Node only)': 1,
      'garbage collection': 1,
    })
  })

  it('names activities by module, and tells verification from the rest of the signature folder', () => {
    expect(activityOf('src-main/signature/verification-cache.ts', 'verify')).toBe('verification')
    expect(activityOf('src-main/signature/hash-chain.ts', 'parseHashChain')).toBe('signature documents and hash chains')
    expect(activityOf('src-main/signer/batch-signer.ts', 'flush')).toBe('signing')
    expect(activityOf('src-main/proxy/client-proxy.ts', 'processClientRequest')).toBe('pipeline glue')
  })

  it('reports milliseconds of CPU per exchange from the sampling rate', () => {
    const table = activityTable(profile, 7, 1000)
    expect(table[0]).toBe('  all threads   1.000 ms per exchange')
    expect(table.find((row) => row.includes('main '))).toContain('0.714 ms')
  })
})
