import { executionAsyncId } from 'node:async_hooks'
import { describe, expect, it } from 'vitest'
import { currentCaller, runAsCaller, SYSTEM_CALLER, type AdminCaller } from '../../src-main/admin/caller-context'

/** The async id a promise continuation runs under: 0 unless some async hook (an enabled AsyncLocalStorage) tracks promises. */
const continuationAsyncId = (): Promise<number> => Promise.resolve().then(() => executionAsyncId())

const alice: AdminCaller = { actor: 'alice', roles: ['security-officer'] }
const bob: AdminCaller = { actor: 'bob', roles: ['system-administrator'] }

describe('admin caller context', () => {
  it('gives each call its caller through awaits, nested and concurrent calls', async () => {
    const seen: string[] = []
    const slow = runAsCaller(alice, async () => {
      await new Promise((r) => setImmediate(r))
      seen.push(currentCaller().actor)
      await runAsCaller(bob, async () => {
        await continuationAsyncId()
        seen.push(currentCaller().actor)
      })
      seen.push(currentCaller().actor)
    })
    const quick = runAsCaller(bob, async () => {
      await continuationAsyncId()
      seen.push(currentCaller().actor)
    })
    await Promise.all([slow, quick])
    expect(seen).toEqual(['bob', 'alice', 'bob', 'alice'])
    expect(currentCaller()).toBe(SYSTEM_CALLER)
  })

  it('leaves no promise hook behind once no admin call is in flight (issue 15 §5: the message path pays for every promise)', async () => {
    expect(await continuationAsyncId()).toBe(0)
    let during = 0
    await runAsCaller(alice, async () => {
      during = await continuationAsyncId()
    })
    expect(during).not.toBe(0)
    expect(await continuationAsyncId()).toBe(0)
    expect(currentCaller()).toBe(SYSTEM_CALLER)
  })
})
