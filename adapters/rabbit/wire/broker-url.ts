/** Where and how to reach one broker, read from an amqp:// or amqps:// URL. */
export interface BrokerAddress {
  tls: boolean
  host: string
  port: number
  user: string
  password: string
  vhost: string
}

/**
 * The URL forms RabbitMQ documents (and amqplib reads): `amqp://user:pass@host:port/vhost`, the
 * vhost percent-encoded (`%2F` is "/"); no path or a bare "/" means the default vhost "/".
 * Query parameters are ignored: cellgate chooses heartbeat and frame size itself.
 */
export function parseBrokerUrl(url: string): BrokerAddress {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new TypeError(`not a URL: ${JSON.stringify(url)}`)
  }
  const tls = u.protocol === 'amqps:'
  if (!tls && u.protocol !== 'amqp:') throw new TypeError(`not an amqp:// or amqps:// URL: ${JSON.stringify(url)}`)
  const path = u.pathname
  const vhost = path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1))
  return {
    tls,
    host: u.hostname === '' ? 'localhost' : u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? (tls ? 5671 : 5672) : Number(u.port),
    user: u.username === '' ? 'guest' : decodeURIComponent(u.username),
    password: u.password === '' && u.username === '' ? 'guest' : decodeURIComponent(u.password),
    vhost,
  }
}
