#!/usr/bin/python3
"""oslo.messaging notification listener for cellgate tests.

  notify_listener.py --url U --topic T [--pool P] [--name N] [--exchange X]

get_notification_listener([Target(topic=T)], pool=P, executor='threading').
With a pool the queue is named P (every pool gets each notification once,
listeners of one pool compete); without one it is "<T>.<priority>".
Events (stdout, JSON):
  {"event":"ready","listener":N,"pool":P}
  {"event":"notification","listener":N,"pool":P,"priority":"info",
   "event_type":..,"publisher_id":..,"payload":..,"message_id":..}
  {"event":"stopped","listener":N}
Stops cleanly on SIGTERM/SIGINT or when stdin closes.
"""

import oslo_messaging

import oslo_common as oc

PRIORITIES = ('audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample')


class Endpoint(object):
    def __init__(self, name, pool):
        self.name = name
        self.pool = pool
        for prio in PRIORITIES:
            setattr(self, prio, self._handler(prio))

    def _handler(self, priority):
        def handle(ctxt, publisher_id, event_type, payload, metadata):
            oc.emit('notification', listener=self.name, pool=self.pool,
                    priority=priority, event_type=event_type,
                    publisher_id=publisher_id, payload=oc.summarize(payload),
                    message_id=metadata.get('message_id'))
            return oslo_messaging.NotificationResult.HANDLED
        return handle


def main():
    p = oc.base_parser(__doc__)
    p.add_argument('--pool', default=None)
    p.add_argument('--name', default=None)
    args = p.parse_args()
    name = args.name or args.pool or 'listener'
    oc.setup_logging(args.log_level)

    conf = oc.make_conf()
    transport = oc.notification_transport(conf, oc.effective_url(args))
    targets = [oslo_messaging.Target(topic=args.topic, exchange=args.exchange)]
    listener = oslo_messaging.get_notification_listener(
        transport, targets, [Endpoint(name, args.pool)], executor='threading',
        pool=args.pool)
    listener.start()  # declares queue/bindings and consumes synchronously
    oc.emit('ready', listener=name, pool=args.pool, topic=args.topic)

    oc.wait_for_stop()

    def stop():
        listener.stop()
        listener.wait()
        oc.emit('stopped', listener=name)

    oc.exit_after_cleanup([stop, transport.cleanup], 0)


if __name__ == '__main__':
    main()
