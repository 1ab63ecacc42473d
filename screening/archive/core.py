"""The :class:`Archive`: screening waves of the same students kept on SQLite or PostgreSQL (一生一档)."""

from __future__ import annotations

import datetime as dt
import getpass
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._params import InvalidParameterError, check_choice
from ..errors import Issue
from ..reports.privacy import Key, load_key, pseudonymise
from . import _analysis, _db, _transfer
from . import view as _view
from ._frame import GROUP_COLS, Prepared, prepare
from .errors import ArchiveError
from .schema import action, batch, erasure_permit, pseudonym_key, record, subject, subject_link, wave

__all__ = ["ACTION_KINDS", "AddReport", "Archive", "open_archive"]

#: What :meth:`Archive.record_action` records (REDCap calendar / Chinese 心理档案 vocabulary).
ACTION_KINDS = ("interview", "parent_contact", "referral", "referral_outcome", "crisis", "return_certificate",
                "rescreen", "close_watch", "reopen_watch")
#: Due items an action can fulfil.
DUE_ITEMS = ("follow_up", "rescreen")
#: Tier order used for tables when the rule set is not at hand (lowest first); unknown tiers follow.
TIER_ORDER = ("green", "yellow", "orange", "red")
ABSENT = "absent"
_CHECK_TEXT = "screening-archive-key-check"


@dataclass(frozen=True)
class AddReport:
    """What :meth:`Archive.add` did: counts only."""

    wave: str
    added: int
    unchanged: int
    superseded: int

    def __repr__(self) -> str:
        return f"<AddReport wave {self.wave!r}: added {self.added}, unchanged {self.unchanged}, superseded {self.superseded}>"


def _date(value: Any, name: str, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidParameterError(f"The {name!r} parameter of {where} must be a date (YYYY-MM-DD). Got {value!r} instead.") from None


def _text_param(value: Any, name: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameterError(f"The {name!r} parameter of {where} must be a non-empty string. Got {value!r} instead.")
    return value.strip()


def _tier_sort(tiers: Iterable[str]) -> list[str]:
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    uniq = sorted({t for t in tiers if t != ABSENT}, key=lambda t: (rank.get(t, len(rank)), t))
    return uniq


def _chunks(seq: Sequence[Any], n: int = 900) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


class Archive:
    """An open archive. Make one with :func:`open_archive`; see ``docs/archive.md``.

    Every method takes raw student ids where a person looks students up
    (``history``, ``record_action``, ``export_transfer``, ``erase``) and turns
    them into keyed pseudonyms at once; nothing identifying is stored, logged
    or put in an error message.
    """

    def __init__(self, engine: Engine, key: Key, actor: str, where: str):
        self._engine = engine
        self._key = key
        self.actor = actor
        self._where = where
        with engine.connect() as conn:
            row = conn.execute(sa.select(pseudonym_key.c.check_value)
                               .where(pseudonym_key.c.key_version == key.version)).first()
        #: False when the archive was written under another key with this version label: reads find nobody,
        #: writes are refused.
        self.key_matches = row is None or row[0] == self._check_value()

    # -- plumbing ------------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Archive {self._engine.dialect.name} key {self._key.version}>"

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_value(self) -> str:
        return str(pseudonymise([_CHECK_TEXT], self._key, bits=128).iloc[0])

    def pseudonyms(self, ids: Any) -> pd.Series:
        """The pseudonyms this archive stores for these raw ids (to match the due list to a roster)."""
        return pseudonymise(ids, self._key)

    def _writable(self, conn: Connection) -> None:
        if not self.key_matches:
            raise ArchiveError([Issue("wrong_key", f"this archive was written with a different key of version "
                                      f"{self._key.version!r}", file=self._where,
                                      hint="open it with the key it was made with (nothing was written)")],
                               title="cannot write to the archive")
        exists = conn.execute(sa.select(pseudonym_key.c.key_version)
                              .where(pseudonym_key.c.key_version == self._key.version)).first()
        if exists is None:
            conn.execute(pseudonym_key.insert(), [{"key_version": self._key.version, "check_value": self._check_value(),
                                                   "recorded_at": _db.now()}])

    def _actor(self, actor: str | None, where: str) -> str:
        return self.actor if actor is None else _text_param(actor, "actor", where)

    @staticmethod
    def _current(conn: Connection | None = None) -> Any:
        """Rows nothing supersedes. With ``conn``: a plain TRUE when the archive has no correction at all
        (one index probe), which spares a 130,000-row wave the anti-join."""
        if conn is not None and conn.execute(sa.select(record.c.record_id).where(record.c.supersedes.is_not(None))
                                             .limit(1)).first() is None:
            return sa.true()
        s = record.alias("s")
        return ~sa.exists().where(s.c.supersedes == record.c.record_id)

    def _wave_id(self, conn: Connection, label: str, where: str) -> tuple[int, dt.date]:
        row = conn.execute(sa.select(wave.c.wave_id, wave.c.on).where(wave.c.label == label)).first()
        if row is None:
            known = [r[0] for r in conn.execute(sa.select(wave.c.label))]
            from ..errors import did_you_mean

            raise ArchiveError([Issue("unknown_wave", f"no wave {label!r} in the archive", hint=did_you_mean(label, known) or
                                      f"known waves: {known[:10]}")], title=f"{where}: unknown wave")
        return int(row[0]), row[1]

    def _subject_ids(self, conn: Connection, pseudonyms: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        if len(pseudonyms) > 5000:
            for p, sid in conn.execute(sa.select(subject.c.pseudonym, subject.c.subject_id)):
                out[p] = int(sid)
            wanted = set(pseudonyms)
            return {p: s for p, s in out.items() if p in wanted}
        for chunk in _chunks(list(pseudonyms)):
            for p, sid in conn.execute(sa.select(subject.c.pseudonym, subject.c.subject_id)
                                       .where(subject.c.pseudonym.in_(chunk))):
                out[p] = int(sid)
        return out

    def _links(self, conn: Connection) -> dict[int, int]:
        """subject → canonical subject (smallest id of its linked group); empty when nothing was linked."""
        rows = conn.execute(sa.select(subject_link.c.from_subject, subject_link.c.to_subject)).all()
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        for a, b in rows:
            ra, rb = find(int(a)), find(int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        return {x: find(x) for x in parent}

    def _resolve(self, conn: Connection, ids: Any, where: str) -> tuple[list[int], int]:
        """Subject ids (with every linked one) for raw ids; and how many of the ids were found."""
        pseudo = pseudonymise(ids, self._key).dropna()
        found = self._subject_ids(conn, list(pd.unique(pseudo.to_numpy())))
        links = self._links(conn)
        if not links:
            return sorted(set(found.values())), len(found)
        canon = {links.get(s, s) for s in found.values()}
        group = {s for s in set(links) | set(links.values()) if links.get(s, s) in canon} | set(found.values())
        return sorted(group), len(found)

    # -- writing -------------------------------------------------------------------------------------------------
    def add(self, result: Any, *, wave: str, on: Any, ids: Any, actor: str | None = None, period: str | None = None,
            replace: bool = False) -> AddReport:
        """Store one wave of a screening: every student's scores, bands, statuses, critical flags, risk flags, tier,
        urgent, re-screen, rules fired, school/grade/class/sex, and the provenance — in one transaction.

        Parameters
        ----------
        result : ScreeningResult or DataFrame
            What :func:`screening.screen` returned, or its ``result.to_frame()`` form.
        wave : str
            Label of the wave (e.g. ``"2026-spring"`` or ``"2026春"``).
        on : date or "YYYY-MM-DD"
            Date of the screening.
        ids : Series aligned with the result, or a column name
            Raw student ids (学籍号…); stored only as keyed pseudonyms.
        period : str, optional
            A label such as ``"exam"`` / ``"考试季"`` for time-of-year analyses.
        replace : bool
            Adding the same wave again with identical rows changes nothing; a student whose rows differ is an
            error unless ``replace=True``, which supersedes the old row (kept, no longer current).
        """
        return self.add_chunks([(result, ids)], wave=wave, on=on, actor=actor, period=period, replace=replace)

    def add_chunks(self, chunks: Iterable[tuple[Any, Any]], *, wave: str, on: Any, actor: str | None = None,
                   period: str | None = None, replace: bool = False) -> AddReport:
        """:meth:`add` for a result streamed in pieces: an iterable of ``(result_or_frame, ids)`` pairs (e.g. one per
        Dask or Spark partition). All pieces are written in one transaction: all or nothing."""
        where = "Archive.add"
        label = _text_param(wave, "wave", where)
        day = _date(on, "on", where)
        who = self._actor(actor, where)
        if period is not None:
            period = _text_param(period, "period", where)
        added = unchanged = superseded = 0
        seen: set[int] = set()
        with self._engine.begin() as conn:
            self._writable(conn)
            wave_id = self._ensure_wave(conn, label, day, period)
            batch_id: int | None = None
            for piece, piece_ids in chunks:
                prep = prepare(piece, piece_ids, lambda s: pseudonymise(s, self._key), where=where)
                rows, n_same, n_sup = self._diff(conn, prep, wave_id, replace, seen)
                unchanged += n_same
                superseded += n_sup
                if rows.empty:
                    continue
                if batch_id is None:
                    batch_id = self._new_batch(conn, "screening", wave_id, who, prep)
                _insert_records(conn, rows, wave_id, batch_id)
                added += len(rows)
            if batch_id is not None:
                _db.log(conn, actor=who, action="add", n_subjects=added, obj=f"wave {label}",
                        purpose=f"superseded {superseded}" if superseded else None)
        return AddReport(label, added, unchanged, superseded)

    def _ensure_wave(self, conn: Connection, label: str, day: dt.date, period: str | None) -> int:
        row = conn.execute(sa.select(wave.c.wave_id, wave.c.on, wave.c.period).where(wave.c.label == label)).first()
        if row is None:
            res = conn.execute(wave.insert().values(label=label, on=day, period=period, recorded_at=_db.now()))
            return _db.inserted_id(res)
        if row[1] != day or (period is not None and row[2] != period):
            raise ArchiveError([Issue("wave_conflict", f"wave {label!r} is already stored with date {row[1]} and period "
                                      f"{row[2]!r}; got {day} and {period!r}", hint="use another wave label")],
                               title="cannot add to the archive")
        return int(row[0])

    def _new_batch(self, conn: Connection, kind: str, wave_id: int, who: str, prep: Prepared) -> int:
        res = conn.execute(batch.insert().values(
            kind=kind, wave_id=wave_id, actor=who, n_rows=len(prep.frame), columns=json.dumps(prep.columns, ensure_ascii=False),
            provenance=json.dumps(prep.provenance, ensure_ascii=False, default=str), recorded_at=_db.now()))
        return _db.inserted_id(res)

    def _new_subjects(self, conn: Connection, pseudonyms: list[str], key_version: str) -> dict[str, int]:
        top = conn.execute(sa.select(sa.func.max(subject.c.subject_id))).scalar() or 0
        stamp = _db.now()
        _db.bulk_insert(conn, subject, ["pseudonym", "key_version", "recorded_at"], [(p, key_version, stamp) for p in pseudonyms])
        return {str(p): int(i) for p, i in conn.execute(sa.select(subject.c.pseudonym, subject.c.subject_id)
                                                          .where(subject.c.subject_id > top))}

    def _diff(self, conn: Connection, prep: Prepared, wave_id: int, replace: bool,
              seen: set[int]) -> tuple[pd.DataFrame, int, int]:
        f = prep.frame
        ids = self._subject_ids(conn, f["pseudonym"].tolist())
        new = f.loc[~f["pseudonym"].isin(ids.keys()), "pseudonym"].tolist()
        if new:
            ids.update(self._new_subjects(conn, new, self._key.version))
        f = f.assign(subject_id=f["pseudonym"].map(ids).astype("int64"))
        again = f["subject_id"].isin(seen)
        if again.any():
            raise ArchiveError([Issue("duplicate_id", "the same student appears in two chunks of this wave",
                                      rows=tuple(int(i) for i in np.flatnonzero(again)[:10]), count=int(again.sum()))],
                               title="cannot add to the archive")
        seen.update(f["subject_id"].tolist())
        old = _db.fetch(conn, sa.select(record.c.subject_id, record.c.record_id, record.c.content_sha256)
                        .where(record.c.wave_id == wave_id, self._current(conn)), ["subject_id", "old_id", "old_sha"])
        m = f.merge(old, on="subject_id", how="left")
        present = m["old_id"].notna()
        same = present & (m["old_sha"] == m["content_sha256"])
        differ = present & ~same
        if differ.any() and not replace:
            raise ArchiveError([Issue("conflicting_readd", "this wave is already stored for these students with different "
                                      "content", rows=tuple(int(i) for i in np.flatnonzero(differ)[:10]),
                                      count=int(differ.sum()), hint="pass replace=True to supersede the stored rows")],
                               title="cannot add to the archive")
        out = m.loc[~same].copy()
        out["supersedes"] = out["old_id"].astype(object).where(out["old_id"].notna(), None)
        out["supersedes"] = [None if v is None else int(v) for v in out["supersedes"]]
        return out, int(same.sum()), int(differ.sum())

    def record_action(self, ids: Any, *, kind: str, on: Any, actor: str | None = None, fulfils: str | None = None,
                      outcome: str | None = None, wave: str | None = None) -> int:
        """Record what was done for these students (interview, parent contact, referral …); returns rows written.

        ``fulfils`` names the due item it closes (``"follow_up"`` or ``"rescreen"``; a ``rescreen`` action fulfils
        the re-screen and ``close_watch`` the follow-up by default), for the student's latest wave unless ``wave``
        is given. ``outcome`` is a short code (e.g. ``"seen_by_psychiatrist"``), never free text about the student.
        """
        where = "Archive.record_action"
        check_choice(where, "kind", kind, ACTION_KINDS)
        if fulfils is None:
            fulfils = {"rescreen": "rescreen", "close_watch": "follow_up"}.get(kind)
        if fulfils is not None:
            check_choice(where, "fulfils", fulfils, DUE_ITEMS)
        day = _date(on, "on", where)
        who = self._actor(actor, where)
        with self._engine.begin() as conn:
            self._writable(conn)
            pseudo = pseudonymise(ids, self._key)
            found = self._subject_ids(conn, pseudo.dropna().tolist())
            missing = np.flatnonzero(~pseudo.isin(found.keys()).to_numpy())
            if missing.size:
                raise ArchiveError([Issue("unknown_student", "no archived screening for these students",
                                          rows=tuple(int(i) for i in missing[:10]), count=int(missing.size))],
                                   title="cannot record the action")
            sids = sorted(set(found.values()))
            if not sids:
                return 0
            if wave is not None:
                wid, _ = self._wave_id(conn, wave, where)
                wave_of = dict.fromkeys(sids, wid)
            else:
                latest = self._latest(conn, sids)
                wave_of = dict(zip(latest["subject_id"].astype(int).tolist(), latest["wave_id"].astype(int).tolist()))
            stamp = _db.now()
            rows = [{"subject_id": s, "wave_id": wave_of.get(s), "kind": kind, "on": day, "fulfils": fulfils,
                     "outcome": outcome, "actor": who, "recorded_at": stamp} for s in sids]
            conn.execute(action.insert(), rows)
            _db.log(conn, actor=who, action="record_action", n_subjects=len(sids), obj=kind)
        return len(rows)

    def erase(self, ids: Any, *, actor: str, reason: str) -> int:
        """Remove these students' rows (records, actions, links, pseudonyms) — PIPL erasure or end of retention.

        The only deletion the database allows: done under a permit row inside one transaction, and logged with
        the number of students and the reason, never the ids. Returns the number of students erased.
        """
        where = "Archive.erase"
        who = _text_param(actor, "actor", where)
        why = _text_param(reason, "reason", where)
        with self._engine.begin() as conn:
            self._writable(conn)
            sids, n_found = self._resolve(conn, ids, where)
            token = _db.now()
            conn.execute(erasure_permit.insert(), [{"token": token}])
            for chunk in _chunks(sids):
                conn.execute(record.delete().where(record.c.subject_id.in_(chunk)))
                conn.execute(action.delete().where(action.c.subject_id.in_(chunk)))
                conn.execute(subject_link.delete().where(sa.or_(subject_link.c.from_subject.in_(chunk),
                                                                subject_link.c.to_subject.in_(chunk))))
                conn.execute(subject.delete().where(subject.c.subject_id.in_(chunk)))
            conn.execute(erasure_permit.delete().where(erasure_permit.c.token == token))
            _db.log(conn, actor=who, action="erase", n_subjects=n_found, purpose=why)
        return n_found

    def link(self, old_ids: Any, new_ids: Any, *, kind: str = "merge", actor: str, reason: str,
             new_key: Key | None = None) -> int:
        """Record that ``old_ids`` and ``new_ids`` are the same students (alias rows, never rewrites).

        ``kind="merge"``: a duplicate or mistyped id; ``kind="rekey"``: the same ids under ``new_key`` (key
        rotation: pass the same ids twice). Look-ups follow links both ways. Returns the number of links written.
        """
        where = "Archive.link"
        check_choice(where, "kind", kind, ("merge", "rekey"))
        who = _text_param(actor, "actor", where)
        why = _text_param(reason, "reason", where)
        if kind == "rekey" and new_key is None:
            raise InvalidParameterError("The 'new_key' parameter of Archive.link is required for kind='rekey'. Got None instead.")
        a = pseudonymise(old_ids, self._key)
        b = pseudonymise(new_ids, new_key or self._key)
        if len(a) != len(b):
            raise InvalidParameterError(f"The 'new_ids' parameter of {where} must have one id per old id ({len(a)}). "
                                        f"Got {len(b)} instead.")
        with self._engine.begin() as conn:
            self._writable(conn)
            ids = self._subject_ids(conn, list(a.dropna()) + list(b.dropna()))
            new = list(dict.fromkeys(p for p in b.dropna() if p not in ids))
            if new:
                ids.update(self._new_subjects(conn, new, (new_key or self._key).version))
            rows = [{"from_subject": ids[x], "to_subject": ids[y], "kind": kind, "actor": who, "reason": why,
                     "recorded_at": _db.now()} for x, y in zip(a, b) if x in ids and y in ids and x != y]
            if rows:
                conn.execute(subject_link.insert(), rows)
            _db.log(conn, actor=who, action=f"link_{kind}", n_subjects=len(rows), purpose=why)
        return len(rows)

    # -- reading -------------------------------------------------------------------------------------------------
    def waves(self) -> pd.DataFrame:
        """One row per wave in date order: ``wave, on, n_students, period``."""
        n = (sa.select(record.c.wave_id, sa.func.count().label("n")).where(self._current())
             .group_by(record.c.wave_id).subquery())
        q = (sa.select(wave.c.label, wave.c.on, sa.func.coalesce(n.c.n, 0), wave.c.period)
             .select_from(wave.outerjoin(n, n.c.wave_id == wave.c.wave_id)).order_by(wave.c.on, wave.c.wave_id))
        with self._engine.connect() as conn:
            rows = conn.execute(q).all()
        out = pd.DataFrame(rows, columns=["wave", "on", "n_students", "period"])
        out["on"] = pd.to_datetime(out["on"]).dt.date if len(out) else pd.Series(dtype=object)
        out["n_students"] = out["n_students"].astype("int64")
        return out

    def _records(self, conn: Connection, *, wave_ids: Sequence[int] | None = None, subject_ids: Sequence[int] | None = None,
                 data: bool = True) -> pd.DataFrame:
        cols = [record.c.subject_id, subject.c.pseudonym, wave.c.label.label("wave"), wave.c.on, wave.c.period,
                record.c.wave_id, record.c.tier, record.c.urgent, record.c.rescreen, record.c.follow_up_days,
                record.c.rules_fired, *[record.c[c] for c in GROUP_COLS]]
        if data:
            cols.append(record.c.data)
        q = (sa.select(*cols).select_from(record.join(wave, wave.c.wave_id == record.c.wave_id)
                                          .join(subject, subject.c.subject_id == record.c.subject_id))
             .where(self._current(conn)))
        if wave_ids is not None:
            q = q.where(record.c.wave_id.in_(list(wave_ids)))
        if subject_ids is not None:
            q = q.where(record.c.subject_id.in_(list(subject_ids))).order_by(subject.c.pseudonym, wave.c.on, wave.c.label)
        return _db.fetch(conn, q)

    def _latest(self, conn: Connection, sids: Sequence[int]) -> pd.DataFrame:
        recs = pd.concat([self._records(conn, subject_ids=c, data=False) for c in _chunks(list(sids))] or [pd.DataFrame()])
        if recs.empty:
            return pd.DataFrame(columns=["subject_id", "wave_id"])
        return recs.sort_values(["subject_id", "on", "wave_id"]).groupby("subject_id").tail(1)

    def history(self, ids: Any, *, purpose: str | None = None, actor: str | None = None) -> pd.DataFrame:
        """One row per student and wave in date order, for the students a teacher looks up by their raw ids.

        Columns: ``pseudonym, wave, on, period``, school/grade/class/sex, ``tier, urgent, rescreen,
        follow_up_days, rules_fired`` and every score column. The read is logged (count only).
        """
        who = self._actor(actor, "Archive.history")
        with self._engine.begin() as conn:
            sids, n = self._resolve(conn, ids, "Archive.history")
            recs = self._records(conn, subject_ids=sids) if sids else self._records(conn, subject_ids=[-1])
            _db.log(conn, actor=who, action="read_history", n_subjects=n, purpose=purpose)
        return _expand(recs).reset_index(drop=True)  # already in pseudonym, date, wave order (SQL ORDER BY)

    def actions(self, ids: Any, *, purpose: str | None = None, actor: str | None = None) -> pd.DataFrame:
        """The actions recorded for these students: ``pseudonym, wave, kind, on, fulfils, outcome, actor``."""
        who = self._actor(actor, "Archive.actions")
        with self._engine.begin() as conn:
            sids, n = self._resolve(conn, ids, "Archive.actions")
            q = (sa.select(subject.c.pseudonym, wave.c.label.label("wave"), action.c.kind, action.c.on, action.c.fulfils,
                           action.c.outcome, action.c.actor)
                 .select_from(action.join(subject, subject.c.subject_id == action.c.subject_id)
                              .outerjoin(wave, wave.c.wave_id == action.c.wave_id))
                 .where(action.c.subject_id.in_(sids or [-1])).order_by(action.c.on, action.c.action_id))
            res = conn.execute(q)
            out = _db.frame(res)
            _db.log(conn, actor=who, action="read_actions", n_subjects=n, purpose=purpose)
        return out

    def export(self, kind: str = "long", *, actor: str | None = None, purpose: str | None = None) -> pd.DataFrame:
        """Every student's current rows as a tidy table (logged).

        ``kind="long"``: one row per student and wave — ``pseudonym, wave, on, period``, school/grade/class/sex,
        ``tier, urgent, rescreen, follow_up_days, rules_fired``, risk flags (nullable boolean; missing = not
        collected that wave), every score, band and status column. The same columns for every wave.
        ``kind="wide"``: one row per student, columns ``"{wave}:{column}"`` in wave order.
        """
        check_choice("Archive.export", "kind", kind, ("long", "wide"))
        who = self._actor(actor, "Archive.export")
        with self._engine.begin() as conn:
            recs = self._records(conn)
            kinds = _batch_kinds(conn)
            long = _expand(recs, kinds)
            _db.log(conn, actor=who, action=f"export_{kind}", n_subjects=int(long["pseudonym"].nunique()), purpose=purpose)
        long = long.sort_values(["on", "wave", "pseudonym"], kind="stable").reset_index(drop=True)
        if kind == "long":
            return long
        order = list(dict.fromkeys(long["wave"]))
        value_cols = [c for c in long.columns if c not in ("pseudonym", "wave")]
        # (a DataFrame: the index has two levels)
        wide = cast("pd.DataFrame", long.set_index(["pseudonym", "wave"])[value_cols].unstack("wave"))  # noqa: PD010 - mixed dtypes, no aggregation
        wide = wide.reindex(columns=pd.MultiIndex.from_product([value_cols, order]))
        wide.columns = [f"{w}:{c}" for c, w in cast("pd.MultiIndex", wide.columns)]
        wide = wide[[f"{w}:{c}" for w in order for c in value_cols]]
        return wide.reset_index()

    def export_parquet(self, folder: str | Path, *, actor: str | None = None, purpose: str | None = None) -> Path:
        """The long export written as Parquet partitioned by wave (``wave=…/`` folders) for DuckDB, Dask or Spark."""
        out = Path(folder)
        long = self.export("long", actor=actor, purpose=purpose)
        long = long.assign(on=pd.to_datetime(long["on"]))
        out.mkdir(parents=True, exist_ok=True)
        long.to_parquet(out, partition_cols=["wave"], index=False)
        return out

    def verify_log(self) -> int:
        """Check the access log's hash chain; the number of rows checked (ArchiveError if any was altered)."""
        with self._engine.connect() as conn:
            return _db.verify_log(conn)

    def access_log(self) -> pd.DataFrame:
        """The access log: ``seq, at, actor, action, purpose, object, n_subjects`` and the chain hashes."""
        from .schema import access_log

        with self._engine.connect() as conn:
            res = conn.execute(sa.select(access_log).order_by(access_log.c.seq))
            return _db.frame(res)

    # analyses live in _analysis.py; they are bound here
    change = _analysis.change
    due = _analysis.due
    previous = _analysis.previous
    transitions = _analysis.transitions
    watchlist = _analysis.watchlist
    export_transfer = _transfer.export_transfer
    import_transfer = _transfer.import_transfer
    student_summary = _view.student_summary
    trend_svg = _view.trend_svg


def _insert_records(conn: Connection, rows: pd.DataFrame, wave_id: int, batch_id: int) -> None:
    """Insert the prepared rows (a module function, so tests can make it fail half-way)."""
    cols = ["subject_id", "supersedes", "content_sha256", "tier", "urgent", "rescreen", "follow_up_days", "rules_fired",
            *GROUP_COLS, "data"]
    n = len(rows)
    lists: list[list[Any]] = [[wave_id] * n, [batch_id] * n]
    for c in cols:
        s = rows[c]
        if c == "subject_id":
            lists.append([int(v) for v in s.to_numpy()])
            continue
        v = s.astype(object)
        vals = v.where(v.notna(), None).tolist()
        if c in ("urgent", "rescreen"):
            vals = [None if x is None else bool(x) for x in vals]
        elif c in ("follow_up_days",):
            vals = [None if x is None else float(x) for x in vals]
        elif c == "supersedes":
            vals = [None if x is None else int(x) for x in vals]
        lists.append(vals)
    _db.bulk_insert(conn, record, ["wave_id", "batch_id", *cols], list(zip(*lists)))


def _batch_kinds(conn: Connection) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for (cols,) in conn.execute(sa.select(batch.c.columns).order_by(batch.c.batch_id)):
        for k, v in json.loads(cols).items():
            kinds.setdefault(k, v)
    return kinds


def _kind_of(c: str, kinds: dict[str, str]) -> str:
    kind = kinds.get(c, "score" if "." in c else "group")
    if kind == "flag" or c.endswith(".critical") or ".critical." in c:
        return "boolean"
    if kind == "group":
        return "group"
    if c.endswith(".band") or c.endswith(".status"):
        return "string"
    if c.endswith(".n_missing") or c.endswith(".n_invalid"):
        return "Int64"
    return "float"


def _column(values: Any, how: str) -> Any:
    if how == "boolean":
        return pd.array(values, dtype="boolean")
    if how == "Int64":
        return pd.array(values, dtype="Int64")
    if how == "string":
        return pd.array(values, dtype="string")
    if how == "float":
        arr = np.asarray(values, dtype=object)
        try:
            return np.where(pd.isna(arr), np.nan, arr).astype("float64")
        except (TypeError, ValueError):
            return arr
    return np.asarray(values, dtype=object)


def _expand(recs: pd.DataFrame, kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """Records with their JSON data spread into columns, dtypes restored (flags and critical → boolean …)."""
    kinds = kinds or {}
    n = len(recs)
    out: dict[str, Any] = {}
    for c in recs.columns:
        if c in ("data", "subject_id", "wave_id"):
            continue
        v = recs[c].to_numpy(dtype=object)
        if c == "on":
            out[c] = np.array([x if isinstance(x, dt.date) else dt.date.fromisoformat(str(x)[:10]) for x in v], dtype=object)
        elif c in ("urgent", "rescreen"):
            out[c] = pd.array([None if x is None or x != x else bool(x) for x in v], dtype="boolean")
        elif c == "follow_up_days":
            out[c] = _column(v, "float")
        else:
            # (numpy stubs: None is a valid object scalar for np.where)
            out[c] = np.where(pd.isna(v), None, v) if n else v  # type: ignore[call-overload]
    if "data" in recs.columns and n:
        data: dict[str, list[Any] | npt.NDArray[Any]]
        if n <= 2000:  # a few students: json.loads is quicker than pandas' reader
            dicts = [json.loads(d) for d in recs["data"]]
            names = list(dict.fromkeys(k for d in dicts for k in d))
            data = {k: [d.get(k) for d in dicts] for k in names}
        else:
            frame = pd.read_json(io.StringIO("\n".join(recs["data"])), lines=True, dtype=False)
            arrays = {k: frame[k].to_numpy(dtype=object) for k in frame.columns}
            data = {k: np.where(pd.isna(v), None, v) for k, v in arrays.items()}  # type: ignore[call-overload]  # as above
        for c in kinds:
            if c not in data and c not in out:
                data[c] = [None] * n  # not collected in these waves: missing, never False
        rank = {"group": 0, "boolean": 1}
        for c in sorted(data, key=lambda c: (rank.get(_kind_of(c, kinds), 2) if kinds.get(c) != "flag" else 1, c)):
            out[c] = _column(data[c], _kind_of(c, kinds))
    return pd.DataFrame(out, index=recs.index)


def open_archive(target: str | Path, key: Key | bytes, *, actor: str | None = None, upgrade: bool = True) -> Archive:
    """Open (or create) an archive: a SQLite file path, or a database URL (``postgresql+psycopg://…``).

    The schema is created or upgraded with the Alembic migrations shipped in the package. ``key`` is the
    pseudonym key from :func:`screening.load_key` (the same regional key links records between schools); it
    never enters the database. ``actor`` names who is working (for the access log; default: the login name).
    """
    k = load_key(key) if isinstance(key, (bytes, Key)) else None
    if k is None:
        raise InvalidParameterError(f"The 'key' parameter of open_archive must be a Key (sc.load_key) or bytes. "
                                    f"Got {type(key).__name__} instead.")
    where = str(target) if "://" not in str(target) else sa.engine.make_url(str(target)).render_as_string(hide_password=True)
    engine = _db.make_engine(target)
    try:
        _db.migrate(engine, upgrade=upgrade, where=where)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise ArchiveError([Issue("cannot_connect", f"{type(exc.orig).__name__ if exc.orig else 'error'} opening the database",
                                  file=where)], title="cannot open the archive") from None
    who = actor if actor is not None else f"user:{getpass.getuser()}"
    return Archive(engine, k, _text_param(who, "actor", "open_archive"), where)
