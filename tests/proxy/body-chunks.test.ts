import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bodyChunks } from '../../src-main/proxy/http/http-support'

/**
 * `bodyChunks` (issue 15 §5): a body that arrived whole before it is read comes from the stream's buffer without an
 * async iterator, one still arriving is read as it arrives; either way every byte in order, the stream ends, and
 * stopping early destroys the stream when asked to (as `for await` over it does).
 */
let server: Server
let port: number
const received: Array<(req: IncomingMessage) => Promise<string>> = []

beforeAll(async () => {
  server = createServer((req, res) => {
    const handle = received.shift()
    if (handle === undefined) throw new Error('no handler queued')
    handle(req).then((answer) => res.end(answer), (error: Error) => res.end(`error ${error.message}`))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
})

function post(chunks: string[], gapMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': String(chunks.join('').length) } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => resolve(text))
    })
    req.on('error', reject)
    const write = (i: number): void => {
      if (i === chunks.length) return void req.end()
      req.write(chunks[i])
      setTimeout(() => write(i + 1), gapMs)
    }
    write(0)
  })
}

const collect = async (req: IncomingMessage): Promise<string> => {
  let text = ''
  for await (const chunk of bodyChunks(req)) text += chunk.toString()
  return text
}

const whole = (req: IncomingMessage): Promise<void> => new Promise((resolve) => {
  const check = (): void => (req.complete ? resolve() : void setTimeout(check, 1))
  check()
})

describe('bodyChunks', () => {
  it('reads a body that arrived whole from the buffer, and the stream ends', async () => {
    let ended: Promise<void> | undefined
    received.push(async (req) => {
      await whole(req)
      ended = new Promise((resolve) => req.once('end', resolve))
      req.iterator = () => {
        throw new Error('read through an async iterator')
      }
      return collect(req)
    })
    expect(await post(['first-', 'second'], 5)).toBe('first-second')
    await ended
  })

  it('reads a body still arriving as it arrives', async () => {
    received.push(async (req) => {
      const text = await collect(req)
      return `${text} ${String(req.readableEnded)}`
    })
    expect(await post(['a', 'b', 'c'], 20)).toBe('abc true')
  })

  it('destroys the stream when the reader stops early and asked for it', async () => {
    received.push(async (req) => {
      await whole(req)
      for await (const chunk of bodyChunks(req, true)) if (chunk.length > 0) break
      return String(req.destroyed)
    })
    await expect(post(['stop-here'])).rejects.toThrow()
  })
})
