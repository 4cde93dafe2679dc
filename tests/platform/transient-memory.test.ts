import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { LARGE_BODY_BYTES, noteTransientBytes, watchExternalMemory } from '../../src-main/platform'

/**
 * The external-memory watch (issue 15, ≤ 200 MB RSS): buffers that died in the old generation — as those of large
 * bodies that took a while — are collected once they exceed the budget, not when V8 next needs room; without large
 * bodies moving the watch leaves the collection to V8 (a forced one makes V8 drop and recompile optimised code).
 */

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (options: { type: 'minor' | 'major' }) => void

const MB = 1024 * 1024
const arrayBuffers = (): number => process.memoryUsage().arrayBuffers

/** 48 MB of buffers kept through two young-generation collections (so they are old), then dropped. */
function oldGarbage(): void {
  const held: Buffer[] = []
  for (let i = 0; i < 48; i++) held.push(Buffer.alloc(MB, i))
  gc({ type: 'minor' })
  gc({ type: 'minor' })
  held.length = 0
}

async function settleFor(ms: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, ms))
  return arrayBuffers()
}

describe('watchExternalMemory', () => {
  it('collects dead old buffers past its budget once large bodies moved, which V8 would have left standing', async () => {
    gc({ type: 'major' })
    const before = arrayBuffers()
    oldGarbage()
    // Without the watch nothing asks for a collection: the dead buffers stay.
    expect(await settleFor(300)).toBeGreaterThan(before + 40 * MB)
    const stop = watchExternalMemory({ budgetBytes: 16 * MB, intervalMs: 20 })
    try {
      // Nor with it while only small bodies move: the garbage is V8's to collect.
      for (let i = 0; i < 1000; i++) noteTransientBytes(1024)
      expect(await settleFor(300)).toBeGreaterThan(before + 40 * MB)
      // 16 MB of a large body's chunks: now it asks.
      for (let i = 0; i < 256; i++) noteTransientBytes(64 * 1024, LARGE_BODY_BYTES + (i + 1) * 64 * 1024)
      let now = arrayBuffers()
      for (let waited = 0; waited < 3000 && now > before + 8 * MB; waited += 50) now = await settleFor(50)
      expect(now).toBeLessThan(before + 8 * MB)
    } finally {
      stop()
    }
  })
})
