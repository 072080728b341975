"""Shared plumbing for the oslo.messaging test drivers in test/python/.

Every script speaks one protocol to its parent (test/helpers/python.ts):
one JSON object per line on stdout, always with an "event" key, flushed
immediately. Human-readable logging goes to stderr. The scripts use the
real oslo.messaging stack (Debian bookworm: oslo.messaging 14.0.3, kombu
5.2.4, py-amqp 5.1.1) and nothing else, so pointing --url at cellgate
instead of RabbitMQ is the only change needed to test the proxy.

Run with /usr/bin/python3 (the Debian interpreter that has oslo installed).
"""

import argparse
import faulthandler
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import urllib.parse

from oslo_config import cfg
import oslo_messaging

# `kill -USR1 <pid>` dumps every thread's stack to stderr (hang diagnosis).
faulthandler.register(signal.SIGUSR1, all_threads=True)

_out_lock = threading.Lock()
_t0 = time.monotonic()


def emit(event, **fields):
    """Print one JSON event line to stdout (thread-safe, flushed)."""
    rec = {'event': event}
    rec.update(fields)
    rec.setdefault('t', round(time.monotonic() - _t0, 3))
    line = json.dumps(rec, default=repr, ensure_ascii=True)
    with _out_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def summarize(value, limit=200):
    """Make a value printable: long strings become {"_str_len": n}."""
    if isinstance(value, str) and len(value) > limit:
        return {'_str_len': len(value)}
    if isinstance(value, dict):
        return {k: summarize(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [summarize(v, limit) for v in value]
    return value


class CellgateTestError(Exception):
    """A non-builtin exception for the remote-error scenario.

    Clients list this module in allowed_remote_exmods, so oslo re-creates
    it on the caller side as class "CellgateTestError_Remote" (a subclass).
    """


# --------------------------------------------------------------------------
# arguments, config, URL

def base_parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--url', required=True,
                   help='transport_url, e.g. rabbit://guest:guest@127.0.0.1:5673/')
    p.add_argument('--topic', required=True)
    p.add_argument('--exchange', default=None,
                   help='Target.exchange (default: control_exchange "openstack")')
    p.add_argument('--heartbeat', type=int, default=None,
                   help='append heartbeat_timeout_threshold=N to the URL')
    p.add_argument('--log-level', default='WARNING',
                   help='oslo/kombu/amqp log level mirrored as "log" events')
    return p


def with_query(url, **opts):
    """Return url with the given rabbit driver options added to ?query."""
    if not opts:
        return url
    parts = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(parts.query)
    q = [(k, v) for k, v in q if k not in opts]
    q += [(k, str(v)) for k, v in opts.items()]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))


def effective_url(args, **extra):
    opts = dict(extra)
    if args.heartbeat is not None:
        opts['heartbeat_timeout_threshold'] = args.heartbeat
    return with_query(args.url, **opts)


def make_conf():
    """The global cfg.CONF, as services use it (oslo.messaging 14.0.3 reads
    some options, e.g. [oslo_messaging_metrics], only from cfg.CONF), parsed
    with no command line and no config files."""
    conf = cfg.CONF
    conf(args=[], project='cellgate-test', default_config_files=[],
         default_config_dirs=[])
    return conf


def rpc_transport(conf, url):
    return oslo_messaging.get_rpc_transport(
        conf, url=url, allowed_remote_exmods=[__name__])


def notification_transport(conf, url):
    return oslo_messaging.get_notification_transport(conf, url=url)


# --------------------------------------------------------------------------
# logging: stderr for humans, "log" events for the parent

# Messages (impl_rabbit.py 14.0.3) that mean the driver lost or rebuilt a
# connection. Kept as one table so the TS side and reports use one spelling.
_LOG_KINDS = [
    ('reconnected', re.compile(r'Reconnected to AMQP server')),
    ('connection-error', re.compile(
        r'is unreachable|closed the connection|recoverable connection/channel'
        r'|Connection failed|Failed to consume|Failed to publish'
        r'|Failed to declare consumer|Unexpected error during heartbeat'
        r'|Too many heartbeats missed|Connection reset|Broken pipe'
        r'|broker has blocked', re.I)),
    ('cm-heartbeat', re.compile(r'Call monitor heartbeat received')),
]


class EventLogHandler(logging.Handler):
    """Mirrors log records as {"event":"log",...} and counts them by kind."""

    def __init__(self, level):
        super().__init__(level)
        self.counts = {}
        self._count_lock = threading.Lock()

    def emit(self, record):
        try:
            msg = record.getMessage()
        except Exception:  # noqa: broad, logging must never raise
            msg = str(record.msg)
        kind = None
        for name, rx in _LOG_KINDS:
            if rx.search(msg):
                kind = name
                break
        with self._count_lock:
            if kind:
                self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == 'cm-heartbeat':
            return  # counted only; one per second would be noise
        emit('log', level=record.levelname, logger=record.name,
             kind=kind, msg=msg.split('\n')[0][:500])

    def count(self, kind):
        with self._count_lock:
            return self.counts.get(kind, 0)


# impl_rabbit.py and pool.py log through oslo_log, which renames "oslo_*"
# loggers to "oslo.*"; the rest of oslo.messaging uses plain logging.
_WATCHED_LOGGERS = ('oslo_messaging', 'oslo.messaging', 'kombu', 'amqp')


def setup_logging(level_name='WARNING', count_cm_heartbeats=False):
    """stderr gets WARNING+; level_name+ records from oslo/kombu/amqp become
    "log" events. Returns the EventLogHandler (for .count(kind))."""
    level = getattr(logging, str(level_name).upper(), logging.WARNING)
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(logging.Formatter(
        '%(asctime)s %(levelname)s %(name)s: %(message)s'))
    root.addHandler(err)
    handler = EventLogHandler(logging.DEBUG)

    class _Wanted(logging.Filter):
        def filter(self, record):
            return (record.levelno >= level or
                    'Call monitor heartbeat' in str(record.msg))
    handler.addFilter(_Wanted())
    for name in _WATCHED_LOGGERS:
        lg = logging.getLogger(name)
        lg.setLevel(level)
        lg.addHandler(handler)
    if count_cm_heartbeats:
        # The client logs each call-monitor heartbeat at DEBUG only.
        logging.getLogger('oslo_messaging._drivers.amqpdriver').setLevel(
            logging.DEBUG)
    return handler


# --------------------------------------------------------------------------
# lifecycle for long-running scripts (servers, listeners)

def wait_for_stop():
    """Block until SIGTERM/SIGINT or stdin EOF (the parent went away)."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        emit('stopping', reason=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read1(4096):
                pass
        except Exception:  # noqa: closed or invalid stdin counts as EOF
            pass
        if not stop.is_set():
            emit('stopping', reason='stdin-eof')
        stop.set()

    if sys.stdin is not None and not sys.stdin.closed:
        threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.wait(0.5):
        pass


def exit_after_cleanup(cleanups, code, grace=15.0):
    """Run cleanup callables, but never hang: hard-exit after grace s."""
    timer = threading.Timer(grace, lambda: (
        emit('cleanup-timeout', seconds=grace), os._exit(code or 3)))
    timer.daemon = True
    timer.start()
    for fn in cleanups:
        try:
            fn()
        except Exception as exc:  # noqa: report and continue shutting down
            emit('cleanup-error', type=type(exc).__name__, message=str(exc))
    timer.cancel()
    sys.stdout.flush()
    os._exit(code)


# --------------------------------------------------------------------------
# introspection: which TCP connections does a transport use?

def _sock_port(rabbit_conn):
    """Local port of an impl_rabbit.Connection's socket, or None.

    Reads kombu's private _connection so a dead connection is not
    reconnected just by looking at it."""
    try:
        amqp_conn = rabbit_conn.connection._connection
        if amqp_conn is None or amqp_conn.sock is None:
            return None
        return amqp_conn.sock.getsockname()[1]
    except Exception:  # noqa: best effort diagnostics only
        return None


def connection_ports(transport):
    """{"reply": port|None, "pool": [ports]} for an RPC transport."""
    driver = transport._driver
    reply = None
    ctx = getattr(driver, '_reply_q_conn', None)
    if ctx is not None:
        reply = _sock_port(getattr(ctx, 'connection', None))
    pool = []
    try:
        for _ttl, conn in list(driver._connection_pool._items):
            pool.append(_sock_port(conn))
    except Exception:  # noqa: best effort
        pass
    return {'reply': reply, 'pool': sorted(p for p in pool if p)}


def error_fields(exc):
    """JSON-able description of an exception raised by a call."""
    first = str(exc).split('\n')[0]
    return {
        'type': type(exc).__name__,
        'module': type(exc).__module__,
        'message': first[:1000],
        'bases': [c.__name__ for c in type(exc).__mro__[1:4]],
    }
