"""nova's own DB API (nova.db.main.api) against the database in nova.conf, printing what it saw as
JSON lines (event "step"), for the shard-mode test: instance_create, instance_get_by_uuid,
instance_get_all_by_filters_sort (limit, marker), instance_update_and_get_original.

Usage: nova_shard_dbapi.py nova.conf
"""
import json
import sys


def out(name, **kw):
    sys.stdout.write(json.dumps({"event": "step", "name": name, **kw}, default=str) + "\n")
    sys.stdout.flush()


def main():
    conf = sys.argv[1]
    from nova import config
    from nova import context as nova_context
    from nova.db.main import api as db

    config.parse_args(["nova_shard_dbapi", "--config-file", conf])
    ctx = nova_context.get_admin_context()
    out("start")
    import uuid as uuidlib
    import datetime
    uuids = []
    base = datetime.datetime(2024, 1, 1, 12, 0, 0)
    for i in range(12):
        u = str(uuidlib.uuid4())
        inst = db.instance_create(ctx, {
            "uuid": u,
            "project_id": "proj-%d" % (i % 2),
            "user_id": "user",
            "hostname": "vm-%02d" % i,
            "display_name": "vm %d" % i,
            "vcpus": 1 + i % 4,
            "memory_mb": 512,
            "vm_state": "active",
            "created_at": base + datetime.timedelta(minutes=i // 2),
            "system_metadata": {"image_base": "img-%d" % i},
        })
        uuids.append(u)
        out("created", i=i, uuid=u, id=inst["id"])
    got = db.instance_get_by_uuid(ctx, uuids[5])
    out("get_by_uuid", uuid=got["uuid"], hostname=got["hostname"], id=got["id"])
    page1 = db.instance_get_all_by_filters_sort(ctx, {"deleted": False}, limit=5, sort_keys=["created_at", "id"], sort_dirs=["desc", "desc"])
    out("page1", uuids=[x["uuid"] for x in page1])
    page2 = db.instance_get_all_by_filters_sort(ctx, {"deleted": False}, limit=5, marker=page1[-1]["uuid"], sort_keys=["created_at", "id"], sort_dirs=["desc", "desc"])
    out("page2", uuids=[x["uuid"] for x in page2])
    old, new = db.instance_update_and_get_original(ctx, uuids[3], {"host": "compute-1", "vm_state": "stopped"})
    out("update", old_state=old["vm_state"], new_state=new["vm_state"], host=new["host"])
    again = db.instance_get_by_uuid(ctx, uuids[3])
    out("after_update", vm_state=again["vm_state"], host=again["host"])

    # More of the API, each reported on its own (an error is a result too).
    def attempt(name, fn):
        try:
            out(name, **fn())
        except Exception as e:  # noqa: BLE001 - the test reports whatever failed
            out(name, error="%s: %s" % (type(e).__name__, e))

    now = datetime.datetime(2024, 2, 1, 8, 0, 0)

    def actions():
        a = db.action_start(ctx, {"instance_uuid": uuids[7], "action": "reboot", "request_id": "req-1",
                                  "user_id": "user", "project_id": "proj-1", "start_time": now})
        db.action_event_start(ctx, {"instance_uuid": uuids[7], "request_id": "req-1", "event": "compute_reboot",
                                    "start_time": now, "host": "compute-1"})
        db.action_event_finish(ctx, {"instance_uuid": uuids[7], "request_id": "req-1", "event": "compute_reboot",
                                     "finish_time": now, "result": "Success"})
        events = db.action_events_get(ctx, a["id"])
        return {"actions": [x["action"] for x in db.actions_get(ctx, uuids[7])],
                "events": [(e["event"], e["result"]) for e in events]}

    def services():
        for h in range(3):
            db.service_create(ctx, {"host": "compute-%d" % h, "binary": "nova-compute", "topic": "compute",
                                    "report_count": 0, "version": 60 + h})
        return {"count": len(db.service_get_all(ctx)),
                "min_version": db.service_get_minimum_version(ctx, ["nova-compute"]),
                "by_host": db.service_get_by_host_and_binary(ctx, "compute-2", "nova-compute")["version"]}

    def listing():
        proj = db.instance_get_all_by_filters_sort(ctx, {"deleted": False, "project_id": "proj-1"}, sort_keys=["display_name"], sort_dirs=["asc"])
        on_host = db.instance_get_all_by_host(ctx, "compute-1")
        return {"proj1": [x["display_name"] for x in proj], "on_host": [x["uuid"] for x in on_host]}

    attempt("actions", actions)
    attempt("services", services)
    attempt("listing", listing)
    out("done")


if __name__ == "__main__":
    main()
