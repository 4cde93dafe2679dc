import { createServer, type ServerResponse } from 'node:http'
import { logFailure, silentLogger, type Logger } from '../../platform'
import { applyServerLimits, checkingIntervalMs, closeServer, DEFAULT_LISTENER_LIMITS, listen, type ListenerLimits, type RunningListener } from './http-support'

/**
 * The health-check endpoint for load balancers (X-Road's `HealthCheckPort`, ig-xlb §3.4): plain HTTP, every request
 * answered alike (filtering is the firewall's business): 200 with an empty body when the server should be able to
 * process messages, 500 with the failed check's message otherwise, 503 with X-Road's maintenance text in maintenance
 * mode.
 */
export interface HealthAnswer {
  status: 200 | 500 | 503
  /** The reason, '' with 200. */
  message: string
}

export interface HealthCheckListenerOptions {
  host?: string
  /** 0 picks a free port. */
  port: number
  answer(): Promise<HealthAnswer>
  logger?: Logger
}

/** X-Road's `SOCKET_MAX_IDLE_MILLIS`: a balancer's idle connection is closed after 30 s. */
const IDLE_MS = 30_000

export async function startHealthCheckListener(options: HealthCheckListenerOptions): Promise<RunningListener> {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, maxBodyBytes: 0, keepAliveTimeoutMs: IDLE_MS, initialIdleMs: IDLE_MS, maxConnections: 64 }
  const logger = options.logger ?? silentLogger()
  const server = createServer({ connectionsCheckingInterval: checkingIntervalMs(limits), maxHeaderSize: 8 * 1024 }, (req, res) => {
    // The body of a request is not read: drop it so the connection can be reused.
    req.resume()
    options.answer().then(
      (answer) => write(res, answer),
      (error: unknown) => {
        logFailure(logger, error, {}, 'health check failed')
        write(res, { status: 500, message: 'Health check failed' })
      },
    )
  })
  applyServerLimits(server, limits, 'connection')
  const bound = await listen(server, options.host ?? '0.0.0.0', options.port)
  return { ...bound, close: () => closeServer(server) }
}

function write(res: ServerResponse, answer: HealthAnswer): void {
  if (res.headersSent) return
  // X-Road ends the failure message with a line separator; 200 has no body.
  const body = answer.status === 200 ? '' : `${answer.message}\n`
  res.writeHead(answer.status, { 'Content-Type': 'text/plain; charset=UTF-8', 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}
