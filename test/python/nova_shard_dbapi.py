"""nova's own DB API (nova.db.main.api) against the database in nova.conf, printing what it saw as
JSON lines (event "step"), for the shard-mode test: instance_create, instance_get_by_uuid,
instance_get_all_by_filters_sort (limit, marker), instance_update_and_get_original, instance
actions and events, services, compute nodes and migrations. Every uuid and time is derived from
the arguments, so two runs (through cellgate, and against one plain database) print the same.

Usage: nova_shard_dbapi.py nova.conf [seed]
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
    seed = sys.argv[2] if len(sys.argv) > 2 else str(uuidlib.uuid4())
    space = uuidlib.uuid5(uuidlib.NAMESPACE_URL, "cellgate-test:" + seed)

    def fixed_uuid(name):
        return str(uuidlib.uuid5(space, name))

    uuids = []
    base = datetime.datetime(2024, 1, 1, 12, 0, 0)
    for i in range(12):
        u = fixed_uuid("instance-%d" % i)
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

    def pages_in_id_order():
        by_id = [n["hypervisor_hostname"] for n in sorted(db.compute_node_get_all(ctx), key=lambda n: n["id"])]
        first = db.compute_node_get_all_by_pagination(ctx, limit=2)
        rest = db.compute_node_get_all_by_pagination(ctx, limit=2, marker=first[-1]["id"])
        return [n["hypervisor_hostname"] for n in first + rest] == by_id and len(first) == 2

    def compute_nodes():
        made = []
        for h in range(3):
            svc = db.service_get_by_host_and_binary(ctx, "compute-%d" % h, "nova-compute")
            node = db.compute_node_create(ctx, {
                "uuid": fixed_uuid("node-%d" % h), "service_id": svc["id"], "host": "compute-%d" % h,
                "hypervisor_hostname": "node-%d" % h, "vcpus": 8 * (h + 1), "memory_mb": 16384, "local_gb": 100,
                "vcpus_used": h, "memory_mb_used": 512 * h, "local_gb_used": 10 * h,
                "hypervisor_type": "QEMU", "hypervisor_version": 8002000, "cpu_info": "{}",
                "free_ram_mb": 16384 - 512 * h, "free_disk_gb": 100 - 10 * h, "current_workload": 0,
                "running_vms": h, "disk_available_least": 90, "mapped": 0})
            made.append(node["id"])
        db.compute_node_update(ctx, made[1], {"vcpus_used": 5})
        stats = db.compute_node_statistics(ctx)
        return {
            "all": sorted((n["host"], n["hypervisor_hostname"], n["vcpus"], n["vcpus_used"]) for n in db.compute_node_get_all(ctx)),
            "by_host": [n["hypervisor_hostname"] for n in db.compute_node_get_all_by_host(ctx, "compute-1")],
            "by_host_and_node": db.compute_node_get_by_host_and_nodename(ctx, "compute-2", "node-2")["vcpus"],
            "by_nodename": db.compute_node_get_by_nodename(ctx, "node-0")["host"],
            "by_id": db.compute_node_get(ctx, made[1])["vcpus_used"],
            "by_service": [n["hypervisor_hostname"] for n in db.compute_nodes_get_by_service_id(ctx, db.service_get_by_host_and_binary(ctx, "compute-0", "nova-compute")["id"])],
            # Ids differ between one database and shards (per-shard auto_increment offsets), so
            # the pages are checked against the id order each database has.
            "pages_in_id_order": pages_in_id_order(),
            "statistics": {k: stats[k] for k in ("count", "vcpus", "vcpus_used", "memory_mb", "running_vms")},
        }

    def migrations():
        made = []
        for k, (i, status) in enumerate([(2, "migrating"), (4, "finished"), (6, "migrating"), (8, "error")]):
            m = db.migration_create(ctx, {
                "uuid": fixed_uuid("migration-%d" % k), "instance_uuid": uuids[i], "source_compute": "compute-0",
                "dest_compute": "compute-1", "source_node": "node-0", "dest_node": "node-1", "status": status,
                "migration_type": "live-migration", "created_at": now + datetime.timedelta(minutes=k)})
            made.append(m["id"])
        db.migration_update(ctx, made[2], {"status": "running"})
        in_progress = db.migration_get_in_progress_by_host_and_node(ctx, "compute-1", "node-1")
        listed = db.migration_get_all_by_filters(ctx, {"source_compute": "compute-0"}, sort_keys=["created_at"], sort_dirs=["desc"])
        return {
            "by_instance_and_status": db.migration_get_by_instance_and_status(ctx, uuids[2], "migrating")["uuid"],
            "by_uuid": db.migration_get_by_uuid(ctx, fixed_uuid("migration-1"))["status"],
            "by_id_and_instance": db.migration_get_by_id_and_instance(ctx, made[3], uuids[8])["status"],
            "in_progress": sorted(m["uuid"] for m in in_progress),
            "all_by_filters": [m["uuid"] for m in listed],
            "by_instance_in_progress": [m["uuid"] for m in db.migration_get_in_progress_by_instance(ctx, uuids[6])],
        }

    attempt("actions", actions)
    attempt("services", services)
    attempt("listing", listing)
    attempt("compute_nodes", compute_nodes)
    attempt("migrations", migrations)
    out("done")


if __name__ == "__main__":
    main()
