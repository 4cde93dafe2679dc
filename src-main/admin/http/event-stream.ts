import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ServerEvent } from '@shared/server-events'

/**
 * Server-Sent Events (HTML Living Standard §9.2) of the server's event stream for one authenticated browser: each event
 * as `event: <name>` + `data: <JSON>`, a comment every `heartbeatMs` that keeps proxies from closing the connection
 * and re-checks the credential (a session that ended or an API key revoked ends the stream; the browser's EventSource
 * then reconnects and is refused until it signs in again).
 */
export interface ServerEventSource {
  subscribe(listener: (event: ServerEvent) => void): () => void
}

export interface EventStreamOptions {
  heartbeatMs?: number
  /** False once the caller's session or key is no longer valid. */
  stillAuthorized(): boolean
}

export interface OpenStreams {
  /** Ends every open stream (the listener is closing: open streams would hold it for its whole grace period). */
  endAll(): void
  readonly size: number
}

/** The streams of one listener. */
export function openStreams(): OpenStreams & { add(res: ServerResponse): () => void } {
  const open = new Set<ServerResponse>()
  return {
    add(res) {
      open.add(res)
      return () => open.delete(res)
    },
    endAll() {
      for (const res of open) res.end()
      open.clear()
    },
    get size() {
      return open.size
    },
  }
}

export function streamServerEvents(
  req: IncomingMessage, res: ServerResponse, source: ServerEventSource, streams: ReturnType<typeof openStreams>,
  headers: Record<string, string>, options: EventStreamOptions,
): void {
  req.socket.setTimeout(0)
  req.socket.setNoDelay(true)
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
  // The browser waits 3 s before reconnecting; the comment makes the headers and first bytes leave at once.
  res.write('retry: 3000\n: connected\n\n')
  const unsubscribe = source.subscribe((event) => {
    res.write(`event: ${event.name}\ndata: ${JSON.stringify(event.payload)}\n\n`)
  })
  const heartbeat = setInterval(() => {
    if (!options.stillAuthorized()) {
      res.end()
      return
    }
    res.write(': ping\n\n')
  }, options.heartbeatMs ?? 15_000)
  heartbeat.unref()
  const remove = streams.add(res)
  const end = (): void => {
    clearInterval(heartbeat)
    unsubscribe()
    remove()
  }
  res.on('close', end)
  res.on('error', end)
}
