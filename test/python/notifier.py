#!/usr/bin/python3
"""oslo.messaging notifier for cellgate tests.

  notifier.py --url U --topic T --count N [--priority info] [--exchange X]

Sends N notifications with driver 'messagingv2' (2.0 envelope) to topic T,
event_type "cellgate.test", payload {"seq": i, "run": <id>}. The publisher
also declares the queue "<T>.<priority>" (no expiry; tests delete it).
Events: {"event":"sent","seq":i} per notification, then
{"event":"summary","passed":bool,"ok":n,"failed":n}; exit 0 iff passed.
"""

import uuid

import oslo_messaging

import oslo_common as oc


def main():
    p = oc.base_parser(__doc__)
    p.add_argument('--count', type=int, default=1)
    p.add_argument('--priority', default='info',
                   choices=('audit', 'debug', 'info', 'warn', 'error',
                            'critical', 'sample'))
    p.add_argument('--event-type', default='cellgate.test')
    p.add_argument('--publisher-id', default='cellgate-test.host1')
    args = p.parse_args()
    oc.setup_logging(args.log_level)

    if args.exchange:
        oslo_messaging.set_transport_defaults(control_exchange=args.exchange)
    conf = oc.make_conf()
    transport = oc.notification_transport(conf, oc.effective_url(args))
    notifier = oslo_messaging.Notifier(
        transport, publisher_id=args.publisher_id, driver='messagingv2',
        topics=[args.topic])
    run = uuid.uuid4().hex[:8]
    send = getattr(notifier, args.priority)
    ok = failed = 0
    for seq in range(args.count):
        try:
            send({'request_id': 'req-' + run}, args.event_type,
                 {'seq': seq, 'run': run})
            oc.emit('sent', seq=seq, run=run)
            ok += 1
        except Exception as exc:  # noqa: reported
            oc.emit('error', seq=seq, **oc.error_fields(exc))
            failed += 1
    # Notifier swallows send errors after logging them (retry=-1 blocks
    # instead), so "sent" means "publish returned".
    oc.emit('summary', scenario='notify', passed=failed == 0, ok=ok,
            failed=failed, run=run)
    oc.exit_after_cleanup([transport.cleanup], 0 if failed == 0 else 1)


if __name__ == '__main__':
    main()
