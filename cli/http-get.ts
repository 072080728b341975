/**
 * One GET for a CLI command. node:http with no agent (Connection: close) rather than fetch():
 * a pooled keep-alive socket would outlive the answer, and `main()` is also run in-process by
 * tests, which must not be held open by it.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface FetchedText {
  readonly status: number
  readonly contentType: string
  readonly body: string
}

/** Answers above this are not the operator view; stop reading rather than fill memory. */
const MAX_BODY_BYTES = 64 << 20

export function fetchText(url: URL, timeoutMs: number): Promise<FetchedText> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, headers: { accept: 'application/json, text/plain' } }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        if (size > MAX_BODY_BYTES) req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`))
        else chunks.push(c)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code !== undefined && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message)))
    req.end()
  })
}
