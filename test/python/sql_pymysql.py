"""Run a scripted PyMySQL session and print what PyMySQL decoded, one JSON line per step.

Usage: sql_pymysql.py '<json spec>'
  spec = {"conn": {pymysql.connect kwargs}, "steps": [step, ...]}
  step = {"sql": "..."} | {"op": "commit"|"rollback"|"ping"|"close"|"abort"}
       | {"op": "select_db", "db": "..."} | {"op": "autocommit", "on": bool}
       | {"op": "sleep", "s": float} | {"op": "wait_stdin"}

Values are printed as [python type name, repr(value)] so that a test can compare what the
client library really produced (Decimal vs float, datetime precision, bytes vs str) between a
direct MariaDB connection and one through cellgate. Events: connected, result, error, done.
"""
import json
import socket
import sys
import time

import pymysql


def enc(v):
    return [type(v).__name__, repr(v)]


def out(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def main():
    spec = json.loads(sys.argv[1])
    kw = dict(spec["conn"])
    if "client_flag" in kw:
        kw["client_flag"] = int(kw["client_flag"])
    try:
        conn = pymysql.connect(**kw)
    except pymysql.MySQLError as e:
        out(event="connect_error", cls=type(e).__name__, args=[a if isinstance(a, (int, str)) else repr(a) for a in e.args])
        return
    import ssl as _ssl
    out(event="connected", server_status=conn.server_status, thread_id=conn.thread_id(), tls=isinstance(conn._sock, _ssl.SSLSocket), server_version=conn.get_server_info())
    for i, step in enumerate(spec["steps"]):
        op = step.get("op", "sql")
        try:
            if op == "sql":
                cur = conn.cursor()
                n = cur.execute(step["sql"])
                rows = cur.fetchall() if cur.description else []
                out(
                    event="result",
                    i=i,
                    n=n,
                    rowcount=cur.rowcount,
                    lastrowid=cur.lastrowid,
                    description=[list(d) for d in (cur.description or [])],
                    rows=[[enc(v) for v in r] for r in rows],
                    warnings=getattr(cur._result, "warning_count", None),
                    status=conn.server_status,
                )
                cur.close()
            elif op == "commit":
                conn.commit()
                out(event="result", i=i, status=conn.server_status)
            elif op == "rollback":
                conn.rollback()
                out(event="result", i=i, status=conn.server_status)
            elif op == "ping":
                conn.ping(reconnect=False)
                out(event="result", i=i, status=conn.server_status)
            elif op == "select_db":
                conn.select_db(step["db"])
                out(event="result", i=i, status=conn.server_status)
            elif op == "autocommit":
                conn.autocommit(step["on"])
                out(event="result", i=i, status=conn.server_status)
            elif op == "sleep":
                time.sleep(step["s"])
            elif op == "wait_stdin":
                out(event="waiting", i=i)
                sys.stdin.readline()
            elif op == "close":
                conn.close()
                out(event="result", i=i)
            elif op == "abort":
                # Vanish without COM_QUIT, as a killed process would.
                conn._sock.shutdown(socket.SHUT_RDWR)
                conn._sock.close()
                out(event="result", i=i)
                break
        except pymysql.MySQLError as e:
            out(event="error", i=i, cls=type(e).__name__, args=[a if isinstance(a, (int, str)) else repr(a) for a in e.args])
    out(event="done")


if __name__ == "__main__":
    main()
