#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=262144 node --max-semi-space-size=8
'use strict'
// Runs the TypeScript sources through tsx in a checkout; the built bundle (out/main/cli.js) otherwise.
// The flag on the first line keeps V8's young generation at 8 MB a half (16 MB by default): collected often enough
// that the network and file chunks a streamed body leaves behind are freed soon (besides the collection after every
// 8 MB streamed, README "Memory budget"), large enough that an exchange's objects die young instead of being promoted.
// Measured on a lab pair at c=16 (scripts/profile): 2 MB a half spent 12-15 % of the main thread in GC, 8 MB 8-10 %,
// 16 MB 5 %, for 12 MB (8) or 28 MB (16) more young generation than 2 MB. `node bin/gatehouse.js` ignores the line;
// scripts/lib/processes.ts reads it for the servers it starts.
// The old generation's growth between full collections is capped at 30 % by the server itself once it runs
// (src-main/platform/transient-memory.ts `limitOldGenerationGrowth`, so that the desktop app's Electron process gets it
// too); --optimize-for-size reached 170 MB at 2.5 times the CPU.
// The variables before `node` are glibc's allocator's (read when the process starts, so they cannot be set from
// here): two malloc arenas instead of eight a core for the threads (main, the message-log writer, libuv's pool), and a
// fixed 128 KiB threshold above which memory is mapped and given back at once when freed (glibc otherwise raises the
// threshold after the first large block is freed, so the next bodies of hundreds of KB come from arenas that keep
// their high-water mark). Measured with scripts/profile/memory-pair.ts, both settings' pairs side by side under the
// same load, peak RSS through REST c=16, the mixed workload and REST c=256: consumer 241 → 205 MB and 235 → 214 MB,
// provider 206 → 195 MB and 199 → 185 MB.
const { existsSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const source = join(root, 'src-main', 'cli', 'main.ts')
let cli
if (existsSync(source) && process.env.GATEHOUSE_USE_BUILD !== '1') {
  process.env.TSX_TSCONFIG_PATH = process.env.TSX_TSCONFIG_PATH || join(root, 'tsconfig.json')
  require('tsx/cjs')
  cli = require(source)
} else {
  cli = require(join(root, 'out', 'main', 'cli.js'))
}
cli.runCli(process.argv).then(
  (code) => {
    process.exitCode = code
  },
  (error) => {
    process.stderr.write(`gatehouse: ${error && error.stack ? error.stack : error}\n`)
    process.exitCode = 1
  },
)
