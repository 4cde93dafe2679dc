import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BodyStore, concatSources, DEFAULT_MESSAGE_BUDGET, LOAD_COST, LOG_PIECE_BYTES, MessageBudget, readSource, type BodyLimit, type BodySource, type MessageBudgetLimits, type SpoolFileContent } from '../../src-main/proxy'
import { STORED_PIECE_BYTES } from '../../src-main/message-log'
import { SecurityServerError } from '../../src-main/platform'
import { useTempDirs } from '../support/temp-dir'

/**
 * The memory budget and the bodies received under it (issue 14 §3): admission never waits and refuses with
 * `server_busy`, loads for the message log wait in order and cannot starve, a body is hashed as it arrives and kept
 * in memory up to the spool threshold and in a private spool file past it, its limits are applied to the declared
 * length before a byte is read and to the counted length as it grows, and everything taken is given back.
 */
const KIB = 1024
const MIB = 1024 * 1024

function budget(limits: Partial<MessageBudgetLimits> = {}): MessageBudget {
  return new MessageBudget({ maxInFlightBytes: MIB, spoolThresholdBytes: 64 * KIB, maxSpoolBytes: 8 * MIB, loadWaitMs: 200, ...limits })
}

const limit = (maxBytes: number, code: 'body_too_large' | 'logging_failed' = 'body_too_large'): BodyLimit => ({
  maxBytes, error: (size) => new SecurityServerError(code, `${size} > ${maxBytes}`, { clientFault: true }),
})

async function codeOf(work: () => unknown): Promise<string | undefined> {
  try {
    await work()
    return undefined
  } catch (error) {
    return error instanceof SecurityServerError ? error.code : String(error)
  }
}

describe('MessageBudget', () => {
  it('holds X-Road\'s performance-test mix at 16 clients by default: a 10 MB and a 2 MB body logged at once beside 14 bodies in memory', async () => {
    const b = new MessageBudget(DEFAULT_MESSAGE_BUDGET)
    // 14 other clients with bodies up to the spool threshold in memory (the mix's 100 kB bodies stay below it).
    const held = Array.from({ length: 14 }, () => b.tryMemory(DEFAULT_MESSAGE_BUDGET.spoolThresholdBytes))
    expect(held.every((r) => r !== undefined)).toBe(true)
    const twoMb = await b.waitMemory(2 * MIB * LOAD_COST)
    const tenMb = await Promise.race([b.waitMemory(10 * MIB * LOAD_COST), new Promise((resolve) => setTimeout(() => resolve('waiting'), 50))])
    expect(tenMb).not.toBe('waiting')
    // And a new small request is still admitted.
    expect(b.tryMemory(10 * KIB)).toBeDefined()
    expect(b.stats().refusals).toBe(0)
    twoMb.release()
  })

  it('admits while there is room, refuses at once with server_busy beyond it, and takes back what is released', () => {
    const b = budget()
    const first = b.tryMemory(700 * KIB)
    expect(first).toBeDefined()
    expect(b.tryMemory(400 * KIB)).toBeUndefined()
    expect(first?.tryGrow(400 * KIB)).toBe(false)
    expect(first?.tryGrow(300 * KIB)).toBe(true)
    first?.shrink(500 * KIB)
    expect(b.stats().memoryInUse).toBe(500 * KIB)
    first?.release()
    first?.release()
    expect(b.stats()).toMatchObject({ memoryInUse: 0, memoryPeak: 1000 * KIB, refusals: 2 })
  })

  it('serves waiting loads in order and refuses admissions while anyone waits, so a waiter is not starved', async () => {
    const b = budget({ loadWaitMs: 5000 })
    const held = b.tryMemory(900 * KIB)!
    const order: string[] = []
    const big = b.waitMemory(600 * KIB).then((r) => (order.push('big'), r))
    const small = b.waitMemory(100 * KIB).then((r) => (order.push('small'), r))
    expect(b.tryMemory(1)).toBeUndefined()
    expect(b.stats().waiting).toBe(2)
    held.release()
    const [bigR, smallR] = await Promise.all([big, small])
    expect(order).toEqual(['big', 'small'])
    expect(b.stats().memoryInUse).toBe(700 * KIB)
    bigR.release()
    smallR.release()
    expect(b.tryMemory(MIB)).toBeDefined()
  })

  it('gives up a wait after loadWaitMs with server_busy, and refuses at once more than the whole budget', async () => {
    const b = budget({ loadWaitMs: 50 })
    const held = b.tryMemory(MIB)!
    expect(await codeOf(() => b.waitMemory(KIB))).toBe('server_busy')
    expect(await codeOf(() => b.waitMemory(2 * MIB))).toBe('server_busy')
    held.release()
    expect(b.stats()).toMatchObject({ memoryInUse: 0, waiting: 0 })
  })

  it('counts spool space apart from memory', () => {
    const b = budget()
    expect(b.tryDisk(6 * MIB)).toBe(true)
    expect(b.tryDisk(3 * MIB)).toBe(false)
    b.releaseDisk(6 * MIB)
    expect(b.tryDisk(8 * MIB)).toBe(true)
  })
})

describe('bodies received under the budget', () => {
  const tempDir = useTempDirs()

  it('keeps a body up to the threshold in memory and spools a larger one (mode 600), each with the SHA-512 of its bytes', async () => {
    const store = new BodyStore(budget(), tempDir())
    for (const size of [0, 10, 64 * KIB, 64 * KIB + 1, 3 * MIB]) {
      const bytes = randomBytes(size)
      const body = await store.receive([bytes.subarray(0, size >> 1), bytes.subarray(size >> 1)], { declaredLength: size, limits: [limit(4 * MIB)] })
      expect(body.size).toBe(size)
      expect(body.spooled).toBe(size > 64 * KIB)
      expect(body.sha512.equals(createHash('sha512').update(bytes).digest())).toBe(true)
      expect((await readSource(body)).equals(bytes)).toBe(true)
      if (body.spooled) {
        const [file] = readdirSync(store.spoolDir)
        expect(statSync(join(store.spoolDir, file as string)).mode & 0o777).toBe(0o600)
        expect(store.budget.stats().memoryInUse).toBe(0)
        expect(store.budget.stats().spoolInUse).toBe(size)
      } else {
        expect(store.budget.stats().memoryInUse).toBe(size)
      }
      body.release()
      expect(store.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0 })
      expect(readdirSync(store.spoolDir)).toEqual([])
    }
  })

  it('refuses a declared length over a limit or over the budget before reading a byte', async () => {
    const store = new BodyStore(budget({ spoolThresholdBytes: MIB, maxSpoolBytes: MIB }), tempDir())
    let pulled = 0
    const source = function* (): Iterable<Buffer> {
      pulled++
      yield Buffer.alloc(10)
    }
    expect(await codeOf(() => store.receive(source(), { declaredLength: 2000, limits: [limit(10_000), limit(1000, 'logging_failed')] }))).toBe('logging_failed')
    expect(await codeOf(() => store.receive(source(), { declaredLength: 20_000, limits: [limit(10_000), limit(1000, 'logging_failed')] }))).toBe('body_too_large')
    const held = store.budget.tryMemory(MIB - 100)!
    expect(await codeOf(() => store.receive(source(), { declaredLength: 200, limits: [] }))).toBe('server_busy')
    held.release()
    expect(await codeOf(() => store.receive(source(), { declaredLength: 2 * MIB, limits: [] }))).toBe('server_busy')
    expect(pulled).toBe(0)
    expect(store.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0 })
  })

  it('asks the budget for the bound of a body without a declared length (the message it is part of) before reading it', async () => {
    const store = new BodyStore(budget({ maxSpoolBytes: 2 * MIB }), tempDir())
    expect(await codeOf(() => store.receive([Buffer.alloc(10)], { expectedLength: 3 * MIB, limits: [] }))).toBe('server_busy')
    const body = await store.receive([Buffer.alloc(100 * KIB)], { expectedLength: MIB, limits: [] })
    // The bound was reserved while the body arrived; only what it took stays.
    expect(store.budget.stats()).toMatchObject({ spoolInUse: 100 * KIB, spoolPeak: MIB })
    body.release()
    expect(store.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0 })
    // A bound beyond the body's own limit: the body is refused for the limit as it passes it, not for the budget.
    const code = await codeOf(() => store.receive([Buffer.alloc(300 * KIB), Buffer.alloc(300 * KIB)], { expectedLength: 3 * MIB, limits: [limit(500 * KIB, 'logging_failed')] }))
    expect(code).toBe('logging_failed')
  })

  it('refuses a body without a declared length as soon as it passes a limit, and removes what it spooled', async () => {
    const store = new BodyStore(budget(), tempDir())
    let pulled = 0
    const source = function* (): Iterable<Buffer> {
      for (;;) {
        pulled++
        yield Buffer.alloc(16 * KIB)
      }
    }
    expect(await codeOf(() => store.receive(source(), { limits: [limit(200 * KIB, 'logging_failed')] }))).toBe('logging_failed')
    expect(pulled).toBe(13)
    expect(readdirSync(store.spoolDir)).toEqual([])
    expect(store.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0 })
  })

  it('refuses a body without a declared length whose memory the budget cannot give, with server_busy', async () => {
    const store = new BodyStore(budget(), tempDir())
    const held = store.budget.tryMemory(MIB - 20 * KIB)!
    expect(await codeOf(() => store.receive([Buffer.alloc(16 * KIB), Buffer.alloc(16 * KIB)], { limits: [] }))).toBe('server_busy')
    held.release()
    expect(store.budget.stats().memoryInUse).toBe(0)
  })

  it(`hands the message log a spooled body as its open file, with ${LOAD_COST}× a log piece from the budget, waiting its turn`, async () => {
    const store = new BodyStore(budget({ maxInFlightBytes: 4 * MIB, loadWaitMs: 5000 }), tempDir())
    const bytes = randomBytes(LOG_PIECE_BYTES + 600 * KIB)
    const body = await store.receive([bytes], { declaredLength: bytes.length, limits: [] })
    const first = await body.load()
    expect(store.budget.stats().memoryInUse).toBe(LOAD_COST * LOG_PIECE_BYTES)
    const file = first.bytes as SpoolFileContent
    expect(file.size).toBe(bytes.length)
    // The exchange may give its body up (and the spool file go) while the record waits: the descriptor still reads it.
    body.release()
    expect(readdirSync(store.spoolDir)).toEqual([])
    const read = Buffer.alloc(bytes.length)
    expect(readSync(file.fd, read, 0, read.length, 0)).toBe(bytes.length)
    expect(read.equals(bytes)).toBe(true)
    const second = body.load()
    await new Promise((r) => setTimeout(r, 20))
    expect(store.budget.stats().waiting).toBe(1)
    first.release()
    await expect(second).rejects.toMatchObject({ code: 'ENOENT' })
    expect(store.budget.stats()).toMatchObject({ memoryInUse: 0, spoolInUse: 0, waiting: 0 })
    await new Promise((r) => setTimeout(r, 20))
    expect(() => readSync(file.fd, read, 0, 1, 0)).toThrow(/EBADF/)
  })

  it('keeps its log piece the size the message log stores pieces of', () => {
    expect(LOG_PIECE_BYTES).toBe(STORED_PIECE_BYTES)
  })

  it('clears spool files an earlier run left behind, and only those', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'left-over.body'), 'x')
    writeFileSync(join(dir, 'not-ours.txt'), 'x')
    const store = new BodyStore(budget(), dir)
    expect(store.clearSpool()).toBe(1)
    expect(readdirSync(dir)).toEqual(['not-ours.txt'])
  })
})

describe('concatSources', () => {
  it('joins adjacent byte parts into one chunk around a body, keeps every byte in order and releases the body', async () => {
    let released = 0
    const body: BodySource = {
      size: 4,
      async *chunks() {
        yield Buffer.from('bo')
        yield Buffer.from('dy')
      },
      held: () => [Buffer.from('bo'), Buffer.from('dy')],
      release: () => {
        released++
      },
    }
    const joined = concatSources([Buffer.from('--b\r\n'), Buffer.from('head'), body, Buffer.from('\r\n'), Buffer.alloc(0), Buffer.from('--b--')])
    expect(joined.size).toBe(20)
    expect(joined.held?.()?.map((c) => c.toString())).toEqual(['--b\r\nhead', 'bo', 'dy', '\r\n--b--'])
    expect((await readSource(joined)).toString()).toBe('--b\r\nheadbody\r\n--b--')
    joined.release()
    expect(released).toBe(1)
  })
})
