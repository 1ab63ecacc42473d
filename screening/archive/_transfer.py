"""心理档案转接: a signed bundle of some students' records, verified before anything is imported.

The bundle is a JSON file: the records (current rows only, minus the fields the receiving school may not see),
their waves and actions, keyed by the pseudonyms of the shared regional key, and a signature: HMAC-SHA256
under that key (through :func:`screening.reports.pseudonymise`) of the SHA-256 of the canonical content.
A single changed byte fails the check and nothing is imported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from ..errors import Issue
from ..reports.privacy import pseudonymise
from . import _db
from ._frame import GROUP_COLS, content_hash
from .errors import ArchiveError
from .schema import action, batch, subject, wave

if TYPE_CHECKING:
    from .core import Archive

FORMAT = "screening-archive-transfer"
#: Left out of a bundle unless asked for: the sending class is no business of the receiving school.
DEFAULT_EXCLUDE = ("class",)


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def _sign(self: Archive, body: dict[str, Any]) -> str:
    digest = hashlib.sha256(_canonical(body)).hexdigest()
    return str(pseudonymise([digest], self._key, bits=256).iloc[0])


def export_transfer(self: Archive, ids: Any, path: str | Path, *, purpose: str, actor: str | None = None,
                    exclude: tuple[str, ...] = DEFAULT_EXCLUDE) -> Path:
    """Write a signed bundle of these students' current records and actions to ``path``; returns the path.

    ``exclude`` names record fields left out (default: ``class``). The bundle holds pseudonyms, never ids.
    """
    from .core import _text_param

    why = _text_param(purpose, "purpose", "Archive.export_transfer")
    who = self._actor(actor, "Archive.export_transfer")
    with self._engine.begin() as conn:
        sids, n = self._resolve(conn, ids, "Archive.export_transfer")
        recs = self._records(conn, subject_ids=sids or [-1])
        res = conn.execute(sa.select(subject.c.pseudonym, wave.c.label, action.c.kind, action.c.on, action.c.fulfils,
                                     action.c.outcome)
                           .select_from(action.join(subject, subject.c.subject_id == action.c.subject_id)
                                        .outerjoin(wave, wave.c.wave_id == action.c.wave_id))
                           .where(action.c.subject_id.in_(sids or [-1])))
        acts = [dict(zip(["pseudonym", "wave", "kind", "on", "fulfils", "outcome"], r)) for r in res.all()]
        _db.log(conn, actor=who, action="transfer_out", n_subjects=n, purpose=why)
    waves = recs[["wave", "on", "period"]].drop_duplicates("wave")
    rows = []
    for r in recs.to_dict("records"):
        row = {k: r[k] for k in ("pseudonym", "wave", "tier", "urgent", "rescreen", "follow_up_days", "rules_fired",
                                 *GROUP_COLS, "data")}
        for c in exclude:
            if c in row:
                row[c] = None
            else:
                d = json.loads(row["data"])
                d.pop(c, None)
                row["data"] = json.dumps(d, ensure_ascii=False, sort_keys=True)
        rows.append(row)
    body = {"format": FORMAT, "version": 1, "key_version": self._key.version, "purpose": why,
            "waves": [{"wave": w, "on": str(o), "period": None if pd.isna(p) else p} for w, o, p in waves.itertuples(index=False)],
            "records": rows, "actions": acts}
    out = Path(path)
    out.write_text(json.dumps({"body": body, "signature": _sign(self, body)}, ensure_ascii=False, default=str),
                   encoding="utf-8")
    return out


def import_transfer(self: Archive, path: str | Path, *, actor: str | None = None) -> int:
    """Verify a bundle's signature and link its records to the same pseudonyms; returns the students imported.

    A bundle signed under another key, or changed after signing, is refused and nothing is written. Records
    already present and identical are skipped; a wave stored with another date is an error.
    """
    from ._frame import Prepared
    from .core import _date, _insert_records

    who = self._actor(actor, "Archive.import_transfer")
    p = Path(path)
    bad = ArchiveError([Issue("bad_signature", "the transfer bundle is not signed by this archive's key or was changed "
                              "after signing; nothing was imported", file=p.name)], title="transfer refused")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        body, sig = doc["body"], doc["signature"]
        ok = isinstance(body, dict) and body.get("format") == FORMAT and isinstance(sig, str)
    except (OSError, ValueError, KeyError, TypeError):
        raise bad from None
    if not ok or body.get("key_version") != self._key.version or _sign(self, body) != sig:
        raise bad
    with self._engine.begin() as conn:
        self._writable(conn)
        n = 0
        for w in body["waves"]:
            wave_id = self._ensure_wave(conn, w["wave"], _date(w["on"], "on", "import"), w.get("period"))
            rows = pd.DataFrame([r for r in body["records"] if r["wave"] == w["wave"]])
            if rows.empty:
                continue
            rows["content_sha256"] = content_hash(rows)
            prep = Prepared(rows.drop(columns=["wave"]), {}, {"transfer": body.get("purpose")})
            new, _, _ = self._diff(conn, prep, wave_id, False, set())
            if new.empty:
                continue
            res = conn.execute(batch.insert().values(kind="transfer_in", wave_id=wave_id, actor=who, n_rows=len(new),
                                                     columns="{}", provenance=json.dumps({"purpose": body.get("purpose")}),
                                                     recorded_at=_db.now()))
            _insert_records(conn, new, wave_id, _db.inserted_id(res))
            n += len(new)
        if body["actions"] and n:
            ids = self._subject_ids(conn, [a["pseudonym"] for a in body["actions"]])
            wid = {lab: i for i, lab in conn.execute(sa.select(wave.c.wave_id, wave.c.label))}
            conn.execute(action.insert(), [{"subject_id": ids[a["pseudonym"]], "wave_id": wid.get(a["wave"]), "kind": a["kind"],
                                            "on": _date(a["on"], "on", "import"), "fulfils": a["fulfils"], "outcome": a["outcome"],
                                            "actor": who, "recorded_at": _db.now()} for a in body["actions"]])
        n_students = len({r["pseudonym"] for r in body["records"]})
        _db.log(conn, actor=who, action="transfer_in", n_subjects=n_students, purpose=body.get("purpose"))
    return n_students
