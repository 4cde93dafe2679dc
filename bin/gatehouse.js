#!/usr/bin/env -S node --max-semi-space-size=2
'use strict'
// Runs the TypeScript sources through tsx in a checkout; the built bundle (out/main/cli.js) otherwise.
// The flag on the first line keeps V8's young generation at 2 MB a half (16 MB by default): a server holds little
// young data, and a small young generation is collected often, which frees the memory of the network and file
// chunks a streamed body leaves behind soon (README "Memory budget"). `node bin/gatehouse.js` ignores the line;
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
