// The same oslo.messaging scenarios as oslo-direct.test.ts, with cellgate as the transport_url:
// real oslo_messaging (Debian) → cellgate → RabbitMQ. A difference between the two files'
// results is a difference cellgate introduced.
import t from 'tap'
import { startTestCellgate } from '../helpers/cellgate.js'
import { registerOsloScenarios } from './oslo-scenarios.js'

const cg = await startTestCellgate()
const url = `rabbit://guest:guest@127.0.0.1:${cg.amqpPort}/`

registerOsloScenarios(t, url, 'cellgate')

t.test('through cellgate, the broker saw few connections', async (t) => {
  const upstream = cg.upstreamConnections()['cell1'] ?? 0
  t.ok(upstream >= 1 && upstream <= 4, `broker connections used: ${upstream}`)
})

t.teardown(() => cg.close())
// The root test would otherwise wait for an empty event loop, which cellgate's listener never gives.
t.end()
