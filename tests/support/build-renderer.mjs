// Builds only the admin GUI (out/renderer) with the renderer section of electron.vite.config.ts, the same
// configuration `electron-vite build` uses for it; main and preload are left alone (the tests never load them).
// Run as a child process: electron-vite's config resolution sets NODE_ENV=production for the whole process.
import { resolveConfig } from 'electron-vite'
import { build } from 'vite'

const root = process.argv[2] ?? process.cwd()
const resolved = await resolveConfig({ root, logLevel: 'warn' }, 'build', 'production')
const renderer = resolved.config?.renderer
if (renderer === undefined) throw new Error(`electron.vite.config.ts in ${root} has no renderer section`)
await build(renderer)
