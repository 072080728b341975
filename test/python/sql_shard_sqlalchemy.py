"""A SQLAlchemy ORM workload on nova-shaped tables (instances + instance_info_caches), set up the
way oslo.db sets up nova's engines, printing what the ORM saw as JSON lines (event "step"). Run
once through cellgate in shard mode and once against one plain database: the outputs must match.
Ids are never printed (shards hand out ids by offset), uuids and values are.

Usage: sql_shard_sqlalchemy.py <url>
"""
import datetime
import decimal
import json
import sys
import uuid as uuidlib

import sqlalchemy as sa
from sqlalchemy import event, func
from sqlalchemy.orm import Session, declarative_base, joinedload, relationship

Base = declarative_base()


class Instance(Base):
    __tablename__ = "instances"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False, unique=True)
    project_id = sa.Column(sa.String(255))
    hostname = sa.Column(sa.String(255))
    vcpus = sa.Column(sa.Integer)
    memory_mb = sa.Column(sa.Integer)
    created_at = sa.Column(sa.DateTime)
    deleted = sa.Column(sa.Integer, default=0)
    info_caches = relationship("InfoCache", back_populates="instance", order_by="InfoCache.network_info",
                               primaryjoin="Instance.uuid == foreign(InfoCache.instance_uuid)")


class InfoCache(Base):
    __tablename__ = "instance_info_caches"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    instance_uuid = sa.Column(sa.String(36), nullable=False)
    network_info = sa.Column(sa.Text)
    instance = relationship("Instance", back_populates="info_caches",
                            primaryjoin="Instance.uuid == foreign(InfoCache.instance_uuid)")


def val(v):
    if isinstance(v, (decimal.Decimal, datetime.datetime)):
        return str(v)
    return v


def out(step, **kw):
    sys.stdout.write(json.dumps({"event": "step", "name": step, **kw}, default=val) + "\n")
    sys.stdout.flush()


def main():
    url = sys.argv[1]
    engine = sa.create_engine(url, pool_pre_ping=True, pool_recycle=3600, future=True)

    @event.listens_for(engine, "connect")
    def _set_mode(dbapi_con, _record):
        cur = dbapi_con.cursor()
        cur.execute("SET SESSION sql_mode = 'TRADITIONAL'")
        cur.close()

    Base.metadata.create_all(engine)
    out("created", tables=sorted(sa.inspect(engine).get_table_names()))
    base = datetime.datetime(2024, 3, 1, 9, 0, 0)
    ns = uuidlib.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
    uuids = [str(uuidlib.uuid5(ns, "sa-%d" % i)) for i in range(15)]
    # One instance (and its caches) per transaction, as nova's instance_create does.
    for i, u in enumerate(uuids):
        with Session(engine) as s:
            inst = Instance(uuid=u, project_id="p%d" % (i % 3), hostname="h%02d" % (i % 5), vcpus=1 + i % 4,
                            memory_mb=256 * (1 + i % 3), created_at=base + datetime.timedelta(minutes=i))
            s.add(inst)
            s.flush()
            for k in range(i % 3):
                s.add(InfoCache(instance_uuid=u, network_info="net-%d-%d" % (i, k)))
            s.commit()
    out("inserted", n=len(uuids))

    with Session(engine) as s:
        one = s.execute(sa.select(Instance).options(joinedload(Instance.info_caches)).where(Instance.uuid == uuids[4])).unique().scalar_one()
        out("get", uuid=one.uuid, hostname=one.hostname, caches=[c.network_info for c in one.info_caches])

        page = s.execute(
            sa.select(Instance).options(joinedload(Instance.info_caches))
            .order_by(Instance.created_at.desc(), Instance.id.desc()).limit(4).offset(3)
        ).unique().scalars().all()
        out("page_joinedload", rows=[[x.uuid, [c.network_info for c in x.info_caches]] for x in page])

        plain = s.execute(sa.select(Instance.uuid, Instance.vcpus).order_by(Instance.vcpus.desc(), Instance.created_at).limit(6)).all()
        out("page_plain", rows=[list(r) for r in plain])

        agg = s.execute(sa.select(func.count(Instance.id), func.sum(Instance.vcpus), func.min(Instance.created_at), func.max(Instance.memory_mb))).one()
        out("aggregates", row=list(agg))

        grouped = s.execute(sa.select(Instance.project_id, func.count(), func.sum(Instance.memory_mb)).group_by(Instance.project_id).order_by(Instance.project_id)).all()
        out("group_by", rows=[list(r) for r in grouped])

        n = s.query(Instance).filter(Instance.hostname == "h01").count()
        out("query_count", n=n)
        s.rollback()

    with Session(engine) as s:
        inst = s.execute(sa.select(Instance).where(Instance.uuid == uuids[7])).scalar_one()
        inst.hostname = "renamed"
        s.commit()
    with Session(engine) as s:
        out("after_update", hostname=s.execute(sa.select(Instance.hostname).where(Instance.uuid == uuids[7])).scalar_one())

    # Two instances in one transaction: through cellgate they land on different shards (9101,
    # rolled back); directly it simply commits. Reported, not compared.
    try:
        with Session(engine) as s:
            s.add_all([Instance(uuid=str(uuidlib.uuid5(ns, "batch-%d" % k)), project_id="pb", created_at=base) for k in range(2)])
            s.commit()
        out("batch", result="committed")
    except sa.exc.OperationalError as e:
        out("batch", result="error", code=e.orig.args[0])
    with Session(engine) as s:
        out("batch_rows", n=s.query(Instance).filter(Instance.project_id == "pb").count())
    out("done")


if __name__ == "__main__":
    main()
