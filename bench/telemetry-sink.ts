/**
 * The OTLP/HTTP receiver of bench/telemetry-bench.ts, in a process of its own so that what it
 * spends receiving spans is charged neither to the load generator nor to cellgate. Accepts any
 * POST (JSON or protobuf), counts requests and bytes, answers 200 with an empty (valid) response
 * in the request's encoding. Prints `listening <port>` once bound; SIGUSR2 (or stdin "stats")
 * prints `stats <posts> <bytes>`.
 *
 *   node dist/bench/telemetry-sink.js
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

let posts = 0
let bytes = 0
const server = createServer((req, res) => {
  req.on('data', (c: Buffer) => (bytes += c.length))
  req.on('end', () => {
    posts++
    const proto = (req.headers['content-type'] ?? '').includes('protobuf')
    // An empty ExportTraceServiceResponse: zero bytes in protobuf, {} in JSON.
    res.writeHead(200, { 'content-type': proto ? 'application/x-protobuf' : 'application/json' })
    res.end(proto ? '' : '{}')
  })
})
const stats = (): void => {
  process.stdout.write(`stats ${posts} ${bytes}\n`)
}
process.on('SIGUSR2', stats)
process.stdin.setEncoding('utf8')
process.stdin.on('data', (s: string) => {
  if (s.includes('stats')) stats()
})
process.stdin.on('end', () => process.exit(0))
process.once('SIGTERM', () => process.exit(0))
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`)
})
