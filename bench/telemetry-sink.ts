/**
 * The OTLP/HTTP receiver of bench/telemetry-bench.ts, in a process of its own so that what it
 * spends receiving spans is charged neither to the load generator nor to cellgate. Accepts any
 * POST (JSON or protobuf), counts requests, bytes and spans per URL path (each cellgate gets a
 * path of its own), answers 200 with an empty (valid) response in the request's encoding.
 * Prints `listening <port>` once bound; a line "stats" on stdin prints `stats <json>`:
 * { "<path>": { posts, bytes, spans } }. Spans are counted in JSON requests only (each span object
 * has one "kind" member; links, events and status have none); -1 once a protobuf request came.
 *
 *   node dist/bench/telemetry-sink.js
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SinkCounts {
  posts: number
  bytes: number
  spans: number
}

const KIND = Buffer.from('"kind":')
const byPath = new Map<string, SinkCounts>()

function count(body: Buffer, needle: Buffer): number {
  let n = 0
  for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, at + needle.length)) n++
  return n
}

const server = createServer((req, res) => {
  const path = req.url ?? '/'
  let c = byPath.get(path)
  if (c === undefined) byPath.set(path, (c = { posts: 0, bytes: 0, spans: 0 }))
  const counts = c
  const chunks: Buffer[] = []
  req.on('data', (b: Buffer) => {
    counts.bytes += b.length
    chunks.push(b)
  })
  req.on('end', () => {
    counts.posts++
    const proto = (req.headers['content-type'] ?? '').includes('protobuf')
    if (proto) counts.spans = -1
    else if (counts.spans >= 0) counts.spans += count(Buffer.concat(chunks), KIND)
    // An empty ExportTraceServiceResponse: zero bytes in protobuf, {} in JSON.
    res.writeHead(200, { 'content-type': proto ? 'application/x-protobuf' : 'application/json' })
    res.end(proto ? '' : '{}')
  })
})
process.stdin.setEncoding('utf8')
// One answer per "stats" line (several may arrive in one chunk).
process.stdin.on('data', (s: string) => {
  for (const line of s.split('\n')) if (line.trim() === 'stats') process.stdout.write(`stats ${JSON.stringify(Object.fromEntries(byPath))}\n`)
})
process.stdin.on('end', () => process.exit(0))
process.once('SIGTERM', () => process.exit(0))
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`)
})
