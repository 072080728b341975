#!/usr/bin/python3
"""oslo.messaging RPC server for cellgate tests.

  rpc_server.py --url U --topic T --server S [--exchange X] [--heartbeat N]

Listens on Target(topic=T, server=S) with the threading executor, i.e. the
queues T, T.S and a T_fanout_<uuid> fanout queue. Events (stdout, JSON):
  {"event":"ready","server":S,"topic":T}            after start()
  {"event":"received","method":M,"server":S,"args":{..}}  every invocation
  {"event":"stopped","server":S}                    after stop()/wait()
Stops cleanly on SIGTERM/SIGINT or when stdin closes.
"""

import time

import oslo_messaging

import oslo_common as oc


class TestEndpoint(object):
    target = oslo_messaging.Target(version='1.0')

    def __init__(self, server):
        self.server = server

    def _received(self, method, **args):
        oc.emit('received', method=method, server=self.server,
                args=oc.summarize(args))

    def echo(self, ctxt, x):
        self._received('echo', x=x)
        return x

    def whoami(self, ctxt):
        self._received('whoami')
        return self.server

    @oslo_messaging.expected_exceptions(ValueError, oc.CellgateTestError)
    def fail(self, ctxt, msg, kind='value'):
        self._received('fail', msg=msg, kind=kind)
        if kind == 'custom':
            raise oc.CellgateTestError(msg)
        raise ValueError(msg)

    def slow(self, ctxt, seconds):
        self._received('slow', seconds=seconds)
        time.sleep(float(seconds))
        return {'slept': seconds, 'server': self.server}

    def size(self, ctxt, blob):
        self._received('size', blob=blob)
        return len(blob)

    def record(self, ctxt, tag):
        # cast/fanout target: the "received" event is the whole point
        self._received('record', tag=tag)


def main():
    p = oc.base_parser(__doc__)
    p.add_argument('--server', required=True)
    args = p.parse_args()
    oc.setup_logging(args.log_level)

    conf = oc.make_conf()
    transport = oc.rpc_transport(conf, oc.effective_url(args))
    target = oslo_messaging.Target(topic=args.topic, server=args.server,
                                   exchange=args.exchange)
    server = oslo_messaging.get_rpc_server(
        transport, target, [TestEndpoint(args.server)], executor='threading',
        access_policy=oslo_messaging.DefaultRPCAccessPolicy)
    server.start()  # declares queues/bindings and consumes synchronously
    oc.emit('ready', server=args.server, topic=args.topic,
            exchange=args.exchange)

    oc.wait_for_stop()

    def stop():
        server.stop()
        server.wait()
        oc.emit('stopped', server=args.server)

    oc.exit_after_cleanup([stop, transport.cleanup], 0)


if __name__ == '__main__':
    main()
