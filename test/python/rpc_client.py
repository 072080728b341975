#!/usr/bin/python3
"""oslo.messaging RPC client scenarios for cellgate tests.

  rpc_client.py --url U --topic T [--server S] --scenario NAME [options]

Talks to rpc_server.py's endpoints. Events (stdout, JSON lines):
  {"event":"result", "scenario":..., ...}   a call returned
  {"event":"error", "type":"MessagingTimeout", ...}  a call raised
  {"event":"sent", "tag":...}               a cast/fanout was published
  {"event":"summary", "scenario":..., "passed":bool, "ok":n, "failed":n, ...}
The summary is always the last event; exit status 0 iff "passed".

Scenarios:
  call          --count N echo calls of --value (JSON), results compared
  whoami        --count N calls of whoami (which server answered)
  cast          --count N casts of record(tag=<--tag-prefix>-<i>)
  fanout        the same with fanout=True (every server of the topic)
  remote-error  fail(kind=value) -> ValueError, fail(kind=custom) ->
                CellgateTestError_Remote (allowed_remote_exmods)
  timeout       echo to --server (default: a random name nobody serves),
                --timeout 3 -> expects MessagingTimeout
  big           echo and size() of a --size byte (1 MiB) string
  concurrent    --count 200 echo calls at once from threads
  call-monitor  slow(--seconds 6) with call_monitor_timeout=--cm-timeout 2
                and timeout 30 succeeds only thanks to server heartbeats;
                a call nobody answers times out after ~cm-timeout; the
                overall timeout stays hard (slow 6 s, timeout 4 -> timeout)
  idle          --heartbeat 4 (heartbeat_timeout_threshold), one call, idle
                --idle 20 s, one more call; reports reconnects/errors seen in
                the driver's logs and whether the TCP connections changed
  recover       an echo call every --interval 0.5 s for --duration s;
                passed iff the last --last 5 calls succeeded
"""

import concurrent.futures
import hashlib
import json
import random
import string
import time
import uuid

import oslo_messaging

import oslo_common as oc

DEFAULT_VALUE = {'hello': 'world', 'n': 42, 'f': 1.5, 'list': [1, 'two', None],
                 'nested': {'t': True, 'u': '\u00fcn\u00efc\u00f8de \u2603'}}


class Runner(object):
    def __init__(self, args, transport, log):
        self.args = args
        self.transport = transport
        self.log = log
        self.target = oslo_messaging.Target(
            topic=args.topic, server=args.server, exchange=args.exchange)
        self.client = oslo_messaging.get_rpc_client(
            transport, self.target, timeout=args.timeout or 30,
            retry=args.retry)
        self.ctxt = {'request_id': 'req-' + uuid.uuid4().hex,
                     'user': 'cellgate-test'}

    def timed_call(self, client, method, **kw):
        """-> (ok, value_or_exception, elapsed_seconds)"""
        start = time.monotonic()
        try:
            value = client.call(self.ctxt, method, **kw)
            return True, value, time.monotonic() - start
        except Exception as exc:  # noqa: every failure is reported
            return False, exc, time.monotonic() - start

    def report(self, step, ok, value, elapsed, **extra):
        if ok:
            oc.emit('result', scenario=self.args.scenario, step=step,
                    value=oc.summarize(value), elapsed=round(elapsed, 3),
                    **extra)
        else:
            oc.emit('error', scenario=self.args.scenario, step=step,
                    elapsed=round(elapsed, 3), **oc.error_fields(value),
                    **extra)

    # -- scenarios: each returns (passed, summary_fields) --------------------

    def call(self):
        value = json.loads(self.args.value) if self.args.value else DEFAULT_VALUE
        ok = failed = mismatched = 0
        for i in range(self.args.count):
            good, res, el = self.timed_call(self.client, 'echo', x=value)
            self.report('echo', good, res, el, i=i,
                        equal=(good and res == value))
            if not good:
                failed += 1
            elif res != value:
                mismatched += 1
            else:
                ok += 1
        return ok == self.args.count, dict(ok=ok, failed=failed,
                                           mismatched=mismatched)

    def whoami(self):
        ok = failed = 0
        servers = {}
        for i in range(self.args.count):
            good, res, el = self.timed_call(self.client, 'whoami')
            self.report('whoami', good, res, el, i=i)
            if good:
                ok += 1
                servers[res] = servers.get(res, 0) + 1
            else:
                failed += 1
        return failed == 0, dict(ok=ok, failed=failed, servers=servers)

    def _casts(self, client):
        sent = failed = 0
        for i in range(self.args.count):
            tag = '%s-%d' % (self.args.tag_prefix, i)
            try:
                client.cast(self.ctxt, 'record', tag=tag)
                oc.emit('sent', tag=tag)
                sent += 1
            except Exception as exc:  # noqa: reported
                oc.emit('error', scenario=self.args.scenario, tag=tag,
                        **oc.error_fields(exc))
                failed += 1
        return failed == 0, dict(ok=sent, failed=failed)

    def cast(self):
        return self._casts(self.client)

    def fanout(self):
        return self._casts(self.client.prepare(fanout=True))

    def remote_error(self):
        checks = []
        for kind, cls in (('value', ValueError),
                          ('custom', oc.CellgateTestError)):
            msg = 'boom-%s-%s' % (kind, uuid.uuid4().hex[:8])
            good, res, el = self.timed_call(self.client, 'fail', msg=msg,
                                            kind=kind)
            if good:
                self.report(kind, True, res, el)
                checks.append(False)
                continue
            fields = oc.error_fields(res)
            oc.emit('error', scenario='remote-error', step=kind,
                    elapsed=round(el, 3), expected_message=msg,
                    is_instance=isinstance(res, cls), **fields)
            checks.append(isinstance(res, cls) and fields['message'] == msg)
        failed = checks.count(False)
        return failed == 0, dict(ok=checks.count(True), failed=failed)

    def timeout(self):
        server = self.args.server or 'nobody-' + uuid.uuid4().hex[:8]
        timeout = self.args.timeout or 3
        client = self.client.prepare(server=server, timeout=timeout)
        good, res, el = self.timed_call(client, 'echo', x='never')
        self.report('timeout', good, res, el, server=server)
        passed = (not good and isinstance(res, oslo_messaging.MessagingTimeout))
        return passed, dict(ok=int(passed), failed=int(not passed),
                            elapsed=round(el, 3), timeout=timeout)

    def big(self):
        rnd = random.Random(self.args.seed)
        alphabet = string.ascii_letters + string.digits
        blob = ''.join(rnd.choices(alphabet, k=self.args.size))
        digest = hashlib.sha256(blob.encode()).hexdigest()
        good, res, el = self.timed_call(self.client, 'echo', x=blob)
        equal = good and res == blob
        if good:
            oc.emit('result', scenario='big', step='echo', len=len(res),
                    sha256=hashlib.sha256(res.encode()).hexdigest(),
                    equal=equal, elapsed=round(el, 3))
        else:
            self.report('echo', good, res, el)
        good2, res2, el2 = self.timed_call(self.client, 'size', blob=blob)
        self.report('size', good2, res2, el2)
        size_ok = good2 and res2 == len(blob)
        passed = equal and size_ok
        return passed, dict(ok=int(equal) + int(size_ok),
                            failed=2 - int(equal) - int(size_ok),
                            size=len(blob), sha256=digest)

    def concurrent(self):
        n = self.args.count
        values = [{'i': i, 'id': uuid.uuid4().hex, 'pad': 'p' * (i % 97)}
                  for i in range(n)]
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
            futures = [pool.submit(self.timed_call, self.client, 'echo', x=v)
                       for v in values]
            results = [f.result() for f in futures]
        elapsed = time.monotonic() - start
        ok = failed = mismatched = 0
        latencies = []
        for i, (good, res, el) in enumerate(results):
            latencies.append(el)
            if not good:
                failed += 1
                self.report('echo', False, res, el, i=i)
            elif res != values[i]:
                mismatched += 1
                self.report('echo', True, res, el, i=i, equal=False)
            else:
                ok += 1
        latencies.sort()
        return ok == n, dict(ok=ok, failed=failed, mismatched=mismatched,
                             elapsed=round(elapsed, 3),
                             p50=round(latencies[n // 2], 3),
                             max=round(latencies[-1], 3))

    def call_monitor(self):
        cm = self.args.cm_timeout
        secs = self.args.seconds
        steps = {}
        # 1. long call kept alive only by the server's call-monitor replies
        before = self.log.count('cm-heartbeat')
        client = self.client.prepare(timeout=30, call_monitor_timeout=cm)
        good, res, el = self.timed_call(client, 'slow', seconds=secs)
        beats = self.log.count('cm-heartbeat') - before
        self.report('heartbeat', good, res, el, heartbeats=beats)
        steps['heartbeat'] = good and beats >= 1 and el >= secs
        # 2. the monitor is really armed: nobody answers -> ~cm seconds
        client = self.client.prepare(
            server='nobody-' + uuid.uuid4().hex[:8], timeout=30,
            call_monitor_timeout=cm)
        good, res, el = self.timed_call(client, 'echo', x='never')
        self.report('dead', good, res, el)
        steps['dead'] = (not good and
                         isinstance(res, oslo_messaging.MessagingTimeout) and
                         el < cm + 3)
        # 3. heartbeats never extend the overall timeout
        hard = max(1, int(secs) - 2)
        client = self.client.prepare(timeout=hard, call_monitor_timeout=cm)
        good, res, el = self.timed_call(client, 'slow', seconds=secs)
        self.report('hard-timeout', good, res, el, timeout=hard)
        steps['hard-timeout'] = (
            not good and isinstance(res, oslo_messaging.MessagingTimeout))
        failed = [k for k, v in steps.items() if not v]
        return not failed, dict(ok=len(steps) - len(failed),
                                failed=len(failed), failed_steps=failed)

    def idle(self):
        ports = []
        results = []
        for step in ('before-idle', 'after-idle'):
            if step == 'after-idle':
                oc.emit('idle', seconds=self.args.idle)
                time.sleep(self.args.idle)
                ports.append(oc.connection_ports(self.transport))
            good, res, el = self.timed_call(self.client, 'echo', x=step)
            self.report(step, good, res, el)
            results.append(good and res == step)
            ports.append(oc.connection_ports(self.transport))
        oc.emit('ports', before=ports[0], idle_end=ports[1], after=ports[2])
        reconnects = self.log.count('reconnected')
        errors = self.log.count('connection-error')
        # Local ports identify the TCP connections: a reconnect that the
        # driver did not log (pool connections) still shows up here.
        same_reply = ports[0]['reply'] is not None and \
            ports[0]['reply'] == ports[2]['reply']
        same_pool = ports[0]['pool'] == ports[2]['pool']
        passed = (all(results) and reconnects == 0 and errors == 0 and
                  same_reply and same_pool)
        return passed, dict(ok=results.count(True), failed=results.count(False),
                            reconnects=reconnects, connection_errors=errors,
                            same_reply_connection=same_reply,
                            same_pool_connections=same_pool,
                            heartbeat=self.args.heartbeat)

    def recover(self):
        client = self.client.prepare(timeout=self.args.timeout or 2)
        deadline = time.monotonic() + self.args.duration
        history = []
        i = 0
        while time.monotonic() < deadline:
            good, res, el = self.timed_call(client, 'echo', x=i)
            good = good and res == i
            if good:
                oc.emit('attempt', i=i, ok=True, ts=time.time(),
                        elapsed=round(el, 3))
            else:
                fields = oc.error_fields(res) if isinstance(res, Exception) \
                    else {'type': 'Mismatch', 'message': repr(res)}
                oc.emit('attempt', i=i, ok=False, ts=time.time(),
                        elapsed=round(el, 3), **fields)
            history.append((good, time.time()))
            i += 1
            time.sleep(self.args.interval)
        last = history[-self.args.last:]
        last_ok = len(last) == self.args.last and all(g for g, _ in last)
        fails = [ts for g, ts in history if not g]
        return last_ok, dict(
            ok=sum(1 for g, _ in history if g), failed=len(fails),
            last_n=self.args.last, last_n_ok=last_ok,
            first_failure_ts=fails[0] if fails else None,
            last_failure_ts=fails[-1] if fails else None,
            reconnects=self.log.count('reconnected'),
            connection_errors=self.log.count('connection-error'))


    def cast_stream(self):
        """Casts for --duration seconds, one per --interval: traffic that runs
        while the test changes something under it (a remap, a restart)."""
        deadline = time.monotonic() + self.args.duration
        sent = failed = 0
        i = 0
        while time.monotonic() < deadline:
            tag = '%s-%d' % (self.args.tag_prefix, i)
            try:
                self.client.cast(self.ctxt, 'record', tag=tag)
                oc.emit('sent', tag=tag, ts=time.time())
                sent += 1
            except Exception as exc:  # noqa: reported
                oc.emit('error', scenario='cast-stream', tag=tag,
                        **oc.error_fields(exc))
                failed += 1
            i += 1
            time.sleep(self.args.interval)
        return failed == 0, dict(ok=sent, failed=failed)


SCENARIOS = {
    'call': Runner.call, 'whoami': Runner.whoami, 'cast': Runner.cast,
    'fanout': Runner.fanout, 'remote-error': Runner.remote_error,
    'timeout': Runner.timeout, 'big': Runner.big,
    'concurrent': Runner.concurrent, 'call-monitor': Runner.call_monitor,
    'idle': Runner.idle, 'recover': Runner.recover,
    'cast-stream': Runner.cast_stream,
}


def main():
    p = oc.base_parser(__doc__)
    p.add_argument('--server', default=None)
    p.add_argument('--scenario', required=True, choices=sorted(SCENARIOS))
    p.add_argument('--count', type=int, default=None)
    p.add_argument('--timeout', type=float, default=None,
                   help='call timeout (default 30; timeout: 3; recover: 2)')
    p.add_argument('--retry', type=int, default=None,
                   help='publish retries (default None = forever)')
    p.add_argument('--value', default=None, help='JSON value for call')
    p.add_argument('--tag-prefix', default='tag')
    p.add_argument('--size', type=int, default=1024 * 1024)
    p.add_argument('--seed', type=int, default=None)
    p.add_argument('--cm-timeout', type=int, default=2)
    p.add_argument('--seconds', type=float, default=6)
    p.add_argument('--idle', type=float, default=20)
    p.add_argument('--duration', type=float, default=10)
    p.add_argument('--interval', type=float, default=0.5)
    p.add_argument('--last', type=int, default=5)
    args = p.parse_args()
    if args.count is None:
        args.count = 200 if args.scenario == 'concurrent' else 1
    if args.scenario == 'idle' and args.heartbeat is None:
        args.heartbeat = 4
    level = args.log_level
    if args.scenario in ('idle', 'recover') and level.upper() == 'WARNING':
        level = 'INFO'  # "Reconnected to AMQP server" is logged at INFO
    log = oc.setup_logging(level,
                           count_cm_heartbeats=args.scenario == 'call-monitor')

    conf = oc.make_conf()
    url = oc.effective_url(args)
    transport = oc.rpc_transport(conf, url)
    oc.emit('start', scenario=args.scenario, topic=args.topic,
            server=args.server, url=url)
    runner = Runner(args, transport, log)
    start = time.monotonic()
    try:
        passed, fields = SCENARIOS[args.scenario](runner)
    except Exception as exc:  # noqa: scenario bug or unexpected failure
        passed, fields = False, dict(ok=0, failed=1,
                                     crash=oc.error_fields(exc))
    fields.setdefault('duration', round(time.monotonic() - start, 3))
    oc.emit('summary', scenario=args.scenario, passed=passed, **fields)
    oc.exit_after_cleanup([transport.cleanup], 0 if passed else 1)


if __name__ == '__main__':
    main()
