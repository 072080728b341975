/**
 * The admin listener (127.0.0.1:9464 by default): `/routes` (the operator view, JSON or text,
 * `?host=H` explains H), `/healthz` (the process serves) and `/readyz` (every enabled cell's
 * broker reachable). Plain node:http: a handful of read-only GET routes need no framework, and
 * nothing here may slow the AMQP path, so every answer is built only when asked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Readiness, RoutesView } from '../../app/routes-view.js'
import type { Logger } from '../log/logger.js'
import { renderExplanations, renderRoutesText } from './routes-text.js'

export interface AdminListenOptions {
  readonly host: string
  /** 0 picks a free port (tests); the bound one is returned. */
  readonly port: number
  /** More GET routes on the same listener (e.g. `/metrics`), by exact path. */
  readonly extraRoutes?: Readonly<Record<string, AdminHandler>>
}

/** What the view provider is asked for: the hosts of `?host=H` to explain. */
export interface ViewRequest {
  readonly explain: readonly string[]
}

export type ViewProvider = (request: ViewRequest) => RoutesView | Promise<RoutesView>
export type ReadinessProvider = () => Readiness | Promise<Readiness>

export interface AdminResponse {
  readonly status?: number
  readonly contentType: string
  readonly body: string
}

export type AdminHandler = (url: URL) => AdminResponse | Promise<AdminResponse>

export interface AdminServer {
  readonly port: number
  /** Stops listening and drops idle keep-alive sockets, so the process can exit. */
  close(): Promise<void>
}

const JSON_TYPE = 'application/json; charset=utf-8'
const TEXT_TYPE = 'text/plain; charset=utf-8'
/** `?host=` values accepted per request: an explanation is cheap, a huge list is a mistake. */
const MAX_EXPLAIN = 1000
/** A request still running at close gets this long before its socket is cut. */
const CLOSE_GRACE_MS = 1000

export async function startAdminServer(
  opts: AdminListenOptions,
  view: ViewProvider,
  ready: ReadinessProvider,
  log: Logger,
): Promise<AdminServer> {
  let failedBefore = false
  const routes: Record<string, AdminHandler> = {
    '/routes': async (url) => routesResponse(url, view),
    '/healthz': () => ({ contentType: TEXT_TYPE, body: 'ok\n' }),
    '/readyz': async () => {
      const r = await ready()
      return json(r.ready ? 200 : 503, { ready: r.ready, ...r.detail })
    },
    ...opts.extraRoutes,
  }

  const server = createServer((req, res) => {
    handle(req, routes).then(
      (answer) => send(res, answer),
      (err: unknown) => {
        // An operator polling a broken provider must not flood the log: warn once, then debug.
        const fields = { path: req.url ?? '', err: err instanceof Error ? err.message : String(err) }
        if (failedBefore) log.debug('admin request failed', fields)
        else log.warn('admin request failed', fields)
        failedBefore = true
        send(res, json(500, { error: 'internal error', detail: fields.err }))
      },
    )
  })
  // Health probes reuse connections; a short idle timeout keeps stale sockets from piling up.
  server.keepAliveTimeout = 5_000

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`admin listener cannot listen on ${opts.host}:${opts.port}: ${err.message}`))
    server.once('error', onError)
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  server.on('error', (err) => log.warn('admin listener error', { err: err.message }))
  const port = (server.address() as AddressInfo).port
  log.info('admin listening', { admin: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`, routes: Object.keys(routes).join(',') })

  let closing: Promise<void> | undefined
  return {
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS)
        force.unref()
      })
      return closing
    },
  }
}

async function handle(req: IncomingMessage, routes: Readonly<Record<string, AdminHandler>>): Promise<AdminResponse> {
  const url = new URL(req.url ?? '/', 'http://admin.invalid')
  const handler = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined
  if (handler === undefined) return json(404, { error: 'not found', path: url.pathname, routes: Object.keys(routes) })
  // HEAD is GET without a body (node:http drops it), so `curl -I` probes work.
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed', method: req.method ?? '', allow: 'GET, HEAD' })
  return handler(url)
}

async function routesResponse(url: URL, view: ViewProvider): Promise<AdminResponse> {
  const format = url.searchParams.get('format') ?? 'json'
  if (format !== 'json' && format !== 'text') return json(400, { error: 'format must be json or text', format })
  const hosts = url.searchParams.getAll('host')
  if (hosts.some((h) => h === '')) return json(400, { error: 'host must not be empty' })
  if (hosts.length > MAX_EXPLAIN) return json(400, { error: `at most ${MAX_EXPLAIN} hosts per request`, hosts: hosts.length })
  const v = await view({ explain: hosts })
  if (format === 'json') return json(200, v)
  // Asked about hosts: the answer is their lines, not the whole map around them.
  return { contentType: TEXT_TYPE, body: hosts.length > 0 ? renderExplanations(v.explain) : renderRoutesText(v) }
}

function json(status: number, body: unknown): AdminResponse {
  return { status, contentType: JSON_TYPE, body: `${JSON.stringify(body, null, 2)}\n` }
}

function send(res: ServerResponse, answer: AdminResponse): void {
  const status = answer.status ?? 200
  const headers: Record<string, string | number> = {
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(answer.body),
    // The view is a moment's state: never serve it from a cache.
    'cache-control': 'no-store',
  }
  if (status === 405) headers['allow'] = 'GET, HEAD'
  res.writeHead(status, headers)
  res.end(answer.body)
}
