"""A SQLAlchemy ORM round trip set up the way oslo.db sets up nova's engines, printing what the
ORM saw as JSON lines (event "step" with a name and values), so a test can compare a run through
cellgate with a run directly against MariaDB.

Usage: sql_sqlalchemy.py <url>
"""
import datetime
import decimal
import json
import sys

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Widget(Base):
    __tablename__ = "widgets"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False, unique=True)
    name = sa.Column(sa.String(255))
    price = sa.Column(sa.Numeric(12, 4))
    created_at = sa.Column(sa.DateTime)
    blob = sa.Column(sa.LargeBinary)
    deleted = sa.Column(sa.Integer, default=0)
    parts = relationship("Part", back_populates="widget", order_by="Part.id")


class Part(Base):
    __tablename__ = "parts"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    widget_id = sa.Column(sa.Integer, sa.ForeignKey("widgets.id"), nullable=False)
    label = sa.Column(sa.Text)
    widget = relationship("Widget", back_populates="parts")


def val(v):
    if isinstance(v, (decimal.Decimal, datetime.datetime, bytes)):
        return [type(v).__name__, repr(v)]
    return v


def out(step, **kw):
    sys.stdout.write(json.dumps({"event": "step", "name": step, **{k: val(v) if not isinstance(v, list) else [val(x) for x in v] for k, v in kw.items()}}) + "\n")
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
    out("created")
    when = datetime.datetime(2024, 5, 6, 7, 8, 9)
    with Session(engine) as s:
        w = Widget(uuid="11111111-2222-3333-4444-555555555555", name="wïdget", price=decimal.Decimal("12.3400"), created_at=when, blob=b"\x00\xff\xfe")
        w.parts = [Part(label="a"), Part(label="b" * 5000)]
        s.add(w)
        s.commit()
        out("inserted", id=w.id, part_ids=[p.id for p in w.parts])
    with Session(engine) as s:
        w = s.execute(sa.select(Widget).where(Widget.uuid == "11111111-2222-3333-4444-555555555555")).scalar_one()
        out("loaded", id=w.id, name=w.name, price=w.price, created_at=w.created_at, blob=w.blob, parts=[len(p.label) for p in w.parts])
        # A no-op update: SQLAlchemy's rowcount check relies on CLIENT_FOUND_ROWS.
        r = s.execute(sa.update(Widget).where(Widget.id == w.id).values(name="wïdget"))
        out("noop_update", rowcount=r.rowcount)
        w.name = "renamed"
        s.commit()
    with Session(engine) as s:
        w = s.get(Widget, 1)
        w.name = "not kept"
        s.add(Widget(uuid="rolled-back", name="x"))
        s.flush()
        s.rollback()
    with Session(engine) as s:
        names = s.execute(sa.select(Widget.name).order_by(Widget.id)).scalars().all()
        out("after_rollback", names=names)
        try:
            s.add(Widget(uuid="11111111-2222-3333-4444-555555555555", name="dup"))
            s.flush()
        except sa.exc.IntegrityError as e:
            out("integrity_error", code=e.orig.args[0])
            s.rollback()
        rows = s.execute(
            sa.select(Widget.id, sa.func.count(Part.id)).join(Part).group_by(Widget.id).order_by(Widget.id).limit(10)
        ).all()
        out("joined", rows=[list(r) for r in rows])
        s.execute(sa.delete(Part))
        n = s.execute(sa.delete(Widget).where(Widget.deleted == 0)).rowcount
        s.commit()
        out("deleted", rowcount=n)
    engine.dispose()
    out("done")


if __name__ == "__main__":
    main()
