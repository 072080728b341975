// Database URLs as operators paste them (nova.conf's SQLAlchemy spelling included) and as the
// embedded store takes them.
import t from 'tap'
import { DbUrlError, parseDbUrl, redactDbUrl } from '../../adapters/mapping/db-url.js'

t.test('MySQL URLs, SQLAlchemy spellings included', async (t) => {
  t.same(parseDbUrl('mysql+pymysql://nova:s%40cret@db.example.org:3307/nova_api?charset=utf8'), {
    kind: 'mysql',
    connection: { host: 'db.example.org', port: 3307, user: 'nova', password: 's@cret', database: 'nova_api', dateStrings: true, supportBigNumbers: true },
  })
  t.same(parseDbUrl('mysql://root@127.0.0.1/x'), {
    kind: 'mysql',
    connection: { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'x', dateStrings: true, supportBigNumbers: true },
  })
  const sock = parseDbUrl('mariadb://nova@localhost/nova_api?unix_socket=/run/mysqld/mysqld.sock')
  t.equal(sock.kind === 'mysql' ? sock.connection.socketPath : undefined, '/run/mysqld/mysqld.sock')
  const v6 = parseDbUrl('mysql://u:p@[::1]:3306/d')
  t.equal(v6.kind === 'mysql' ? v6.connection.host : undefined, '::1')
})

t.test('SQLite forms', async (t) => {
  t.same(parseDbUrl(':memory:'), { kind: 'sqlite', filename: ':memory:' })
  t.same(parseDbUrl('sqlite::memory:'), { kind: 'sqlite', filename: ':memory:' })
  t.same(parseDbUrl('sqlite:////var/lib/cellgate/map.sqlite'), { kind: 'sqlite', filename: '/var/lib/cellgate/map.sqlite' })
  t.same(parseDbUrl('sqlite:///map.sqlite'), { kind: 'sqlite', filename: 'map.sqlite' })
  t.same(parseDbUrl('/var/lib/cellgate/map.sqlite'), { kind: 'sqlite', filename: '/var/lib/cellgate/map.sqlite' })
  t.same(parseDbUrl('cellgate-mapping.sqlite'), { kind: 'sqlite', filename: 'cellgate-mapping.sqlite' })
})

t.test('refused URLs say why, without the password', async (t) => {
  t.throws(() => parseDbUrl(''), DbUrlError)
  t.throws(() => parseDbUrl('postgresql://u:pw@h/db'), { message: /unsupported database URL scheme "postgresql"/ })
  t.throws(() => parseDbUrl('mysql://u:topsecret@h'), { message: /names no database/ })
  try {
    parseDbUrl('mysql://u:topsecret@h')
  } catch (err) {
    t.notMatch((err as Error).message, /topsecret/)
  }
  t.equal(redactDbUrl('mysql+pymysql://nova:pw@db/nova_api'), 'mysql+pymysql://nova:***@db/nova_api')
  t.equal(redactDbUrl('mysql://nova@db/nova_api'), 'mysql://nova@db/nova_api')
})
