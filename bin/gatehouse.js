#!/usr/bin/env -S node --max-semi-space-size=8
'use strict'
// Runs the TypeScript sources through tsx in a checkout; the built bundle (out/main/cli.js) otherwise.
// The flag on the first line keeps V8's young generation at 8 MB a half (16 MB by default): collected often enough
// that the network and file chunks a streamed body leaves behind are freed soon (besides the collection after every
// 8 MB streamed, README "Memory budget"), large enough that an exchange's objects die young instead of being promoted.
// Measured on a lab pair at c=16 (scripts/profile): 2 MB a half spent 12-15 % of the main thread in GC, 8 MB 8-10 %,
// 16 MB 5 %, for 12 MB (8) or 28 MB (16) more young generation than 2 MB. `node bin/gatehouse.js` ignores the line;
// scripts/lib/processes.ts reads it for the servers it starts.
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
