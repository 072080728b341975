import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { connect } from 'amqplib'
import { startTestCellgate } from '../helpers/cellgate.js'

// The amqps listener: a real TLS handshake with a certificate made for the test, then AMQP.

const dir = mkdtempSync(join(tmpdir(), 'cellgate-tls-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const cert = join(dir, 'cert.pem')
const key = join(dir, 'key.pem')
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' })

const cg = await startTestCellgate({
  listen: { amqp: { host: '127.0.0.1', port: 0 }, amqps: { host: '127.0.0.1', port: 0, cert, key } },
})
t.teardown(() => cg.close())

t.test('amqps: verified TLS, then a publish and a get through the broker', async (t) => {
  const c = await connect(`amqps://guest:guest@127.0.0.1:${cg.amqpsPort}/`, { ca: [readFileSync(cert)], servername: 'localhost' })
  const ch = await c.createChannel()
  const q = (await ch.assertQueue('', { exclusive: true })).queue
  ch.sendToQueue(q, Buffer.from('over tls'))
  let got: false | { content: Buffer } = false
  for (let i = 0; i < 50 && got === false; i++) {
    got = await ch.get(q, { noAck: true })
    if (got === false) await new Promise((r) => setTimeout(r, 20))
  }
  t.equal(got && got.content.toString(), 'over tls')
  await c.close()
})

t.test('amqps refuses a client that does not trust the certificate', async (t) => {
  const err = await connect(`amqps://guest:guest@127.0.0.1:${cg.amqpsPort}/`).catch((e: unknown) => e as Error)
  t.match(String(err), /self[- ]signed|certificate/i)
})

t.end()
