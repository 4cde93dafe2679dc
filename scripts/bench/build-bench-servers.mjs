// Builds the bench's injected servers (slow-token-server.ts, skeleton-server.ts) into out/bench with the main-process
// section of electron.vite.config.ts — the configuration `electron-vite build` makes out/main/cli.js with (same
// aliases, same dependencies left external) — so that they run as compiled JavaScript like the shipped server, not
// through tsx's loader. Kept out of out/main: nothing shipped can reach them (tests/server/skeleton-guard.test.ts).
// Run as a child process: electron-vite's config resolution sets NODE_ENV=production for the whole process.
import { resolve } from 'node:path'
import { resolveConfig } from 'electron-vite'
import { build } from 'vite'

const root = process.argv[2] ?? process.cwd()
const resolved = await resolveConfig({ root, logLevel: 'warn' }, 'build', 'production')
const main = resolved.config?.main
if (main === undefined) throw new Error(`electron.vite.config.ts in ${root} has no main section`)
const input = {
  'slow-token-server': resolve(root, 'scripts/bench/slow-token-server.ts'),
  'skeleton-server': resolve(root, 'scripts/bench/skeleton-server.ts'),
}
await build({
  ...main,
  build: {
    ...main.build,
    outDir: resolve(root, 'out/bench'),
    emptyOutDir: true,
    rollupOptions: { ...main.build?.rollupOptions, input },
    rolldownOptions: { ...main.build?.rolldownOptions, input },
  },
})
