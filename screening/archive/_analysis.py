"""Longitudinal analyses bound to :class:`~screening.archive.Archive`: transitions, reliable change, follow-up.

Written as module functions taking the archive as ``self`` so ``core.py`` stays readable.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import sqlalchemy as sa

from .._params import InvalidParameterError, invalid
from ..errors import Issue, SpecError
from . import _db
from .errors import ArchiveError
from .schema import action, record, subject, wave

if TYPE_CHECKING:
    from .core import Archive

__all__ = ["change", "due", "previous", "transitions", "watchlist"]


def _canon(self: Archive, conn: Any, df: pd.DataFrame) -> pd.DataFrame:
    links = self._links(conn)
    if links and len(df):
        df = df.assign(subject_id=df["subject_id"].map(lambda s: links.get(int(s), int(s))))
    return df


def transitions(self: Archive, from_wave: str, to_wave: str, *, by: str | list[str] | None = None,
                min_cell: int = 10, actor: str | None = None) -> pd.DataFrame:
    """Tier × tier counts between two waves, with ``"absent"`` for students screened in only one of them.

    Without ``by``: a table (rows = tier at ``from_wave``, columns = tier at ``to_wave``). With ``by`` (e.g.
    ``"school"``, taken from the later wave when present): one row per group and transition with ``n``; in a
    group where any transition count is between 1 and ``min_cell`` − 1, all its counts are hidden (NA) and only
    the group total is shown, so no small count can be recovered by subtraction.
    """
    from .core import ABSENT, _tier_sort

    who = self._actor(actor, "Archive.transitions")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    for b in by_cols:
        if b not in ("school", "grade", "class", "sex"):
            raise InvalidParameterError("The 'by' parameter of Archive.transitions must name school, grade, class or sex. "
                                        f"Got {b!r} instead.")
    cols = [record.c.subject_id, record.c.tier, *[record.c[b] for b in by_cols]]
    with self._engine.begin() as conn:
        w1, _ = self._wave_id(conn, from_wave, "Archive.transitions")
        w2, _ = self._wave_id(conn, to_wave, "Archive.transitions")
        frames = []
        for w in (w1, w2):
            frames.append(_canon(self, conn, _db.fetch(conn, sa.select(*cols).where(record.c.wave_id == w, self._current(conn)))))
        _db.log(conn, actor=who, action="transitions", n_subjects=0, obj=f"{from_wave} -> {to_wave}")
    first, second = frames
    m = first.merge(second, on="subject_id", how="outer", suffixes=("_from", "_to"))
    m["from"] = m["tier_from"].astype(object).where(m["tier_from"].notna(), ABSENT)
    m["to"] = m["tier_to"].astype(object).where(m["tier_to"].notna(), ABSENT)
    codes_from, uniq_from = pd.factorize(m["from"])
    codes_to, uniq_to = pd.factorize(m["to"])
    tiers = _tier_sort([str(t) for t in uniq_from] + [str(t) for t in uniq_to]) + [ABSENT]
    if not by_cols:
        pos = {t: i for i, t in enumerate(tiers)}
        fi = np.array([pos[str(t)] for t in uniq_from], dtype=np.int64)[codes_from]
        ti = np.array([pos[str(t)] for t in uniq_to], dtype=np.int64)[codes_to]
        counts = np.bincount(fi * len(tiers) + ti, minlength=len(tiers) ** 2).reshape(len(tiers), len(tiers))
        tab = pd.DataFrame(counts.astype("int64"), index=pd.Index(tiers, name=f"tier {from_wave}"),
                           columns=pd.Index(tiers, name=f"tier {to_wave}"))
        return tab
    for c in by_cols:
        m[c] = m[f"{c}_to"].combine_first(m[f"{c}_from"]).fillna("(unknown)")
    seen = (m.groupby([*by_cols, "from", "to"], dropna=False).size().rename("n").reset_index())
    levels: list[list[Any]] = [sorted(seen[c].unique()) for c in by_cols]
    full = pd.MultiIndex.from_product([*levels, tiers, tiers], names=[*by_cols, "from", "to"])
    table = seen.set_index([*by_cols, "from", "to"])["n"].reindex(full, fill_value=0).reset_index()
    total = table.groupby(by_cols)["n"].transform("sum")
    small = table["n"].between(1, min_cell - 1)
    hide = small.groupby([table[c] for c in by_cols]).transform("any")
    table["group_total"] = total.astype("int64")
    table["n"] = table["n"].astype("Int64").mask(hide)
    return table


def _score_values(self: Archive, conn: Any, wave_id: int, score: str) -> pd.DataFrame:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSON

        # `json`, not `jsonb`: one key out of each row's text is read ~1.7x faster without building a jsonb value
        # (130,000 rows of ~530 bytes: 0.45 s against 0.76 s on the development server)
        value = sa.cast(sa.cast(record.c.data, JSON).op("->>")(score), sa.Float)
    else:
        value = sa.cast(sa.func.json_extract(record.c.data, '$."' + score.replace('"', "") + '"'), sa.Float)
    return _db.fetch(conn, sa.select(record.c.subject_id, subject.c.pseudonym, value.label("x"))
                     .select_from(record.join(subject, subject.c.subject_id == record.c.subject_id))
                     .where(record.c.wave_id == wave_id, self._current(conn)), ["subject_id", "pseudonym", "x"])


class _ChangeParams(NamedTuple):
    spec: Any
    higher_worse: bool
    reliability: float
    sd: float
    cutoff: float | None
    criterion: float

    @property
    def s_diff(self) -> float:
        return float(np.sqrt(2.0) * self.sd * np.sqrt(1.0 - self.reliability))


def _change_params(score: str, reliability: float | None, sd: float | None, cutoff: float | None,
                   criterion: float | None, where: str) -> _ChangeParams:
    """Reliability, reference SD, cut-off and criterion for ``score``: the arguments, else the scale's cited
    ``change:`` block; an error naming ``score`` when neither gives reliability and SD."""
    from ..scoring import load_scale

    scale_id, _, score_id = score.partition(".")
    spec = None
    higher_worse = True
    try:
        sc_spec = load_scale(scale_id).spec
        spec = next((c for c in sc_spec.change if c.score == score_id), None)
        higher_worse = next((s.direction for s in sc_spec.scores if s.id == score_id), "higher_worse") == "higher_worse"
    except SpecError as exc:
        # Only "no built-in scale has this id" means "no cited block": a built-in scale that fails to load is a
        # real error and surfaces.
        if not all(i.code == "unknown_scale" for i in exc.issues):
            raise
        spec = None
    r = reliability if reliability is not None else (spec.reliability.value if spec else None)
    s = sd if sd is not None else (spec.sd.value if spec else None)
    cut = cutoff if cutoff is not None else (spec.cutoff if spec else None)
    crit = criterion if criterion is not None else (spec.criterion if spec else 1.96)
    if r is None or s is None:
        raise ArchiveError([Issue("no_change_parameters", f"no reliability and reference SD for {score!r}",
                                  hint="add a `change:` block to the scale YAML or pass reliability= and sd=")],
                           title="cannot compute reliable change")
    if not (0 < r < 1) or s <= 0:
        raise InvalidParameterError(f"The 'reliability' and 'sd' parameters of {where} must be in (0, 1) and > 0. "
                                    f"Got {r!r} and {s!r} instead.")
    return _ChangeParams(spec, higher_worse, float(r), float(s), cut, float(crit))


def change(self: Archive, from_wave: str, to_wave: str, *, score: str = "phq9.total", reliability: float | None = None,
           sd: float | None = None, cutoff: float | None = None, criterion: float | None = None,
           actor: str | None = None) -> pd.DataFrame:
    """Per student screened in both waves: before, after, difference and the Jacobson–Truax reliable change index.

    ``S_diff = √2 · SD · √(1 − r)``; ``RCI = (after − before) / S_diff``; ``reliable`` is ``improved`` /
    ``no_change`` / ``deteriorated`` (|RCI| > criterion, 1.96 by default); ``clinical`` adds ``recovered``
    (reliably improved and moved out of the clinical range, score ≥ cutoff) and ``harmed`` (reliably worse
    and moved into it). Reliability, reference SD and cut-off come from the scale's ``change:`` block (cited
    in the YAML) unless passed. A score missing at either wave gives NA, never "no change".

    References: Jacobson NS, Truax P. J Consult Clin Psychol. 1991;59(1):12-19; Christensen L, Mendoza JL.
    Behav Ther. 1986;17:305-308 (the √2); https://psyctc.org/stats/rcsc1.htm
    """
    who = self._actor(actor, "Archive.change")
    cp = _change_params(score, reliability, sd, cutoff, criterion, "Archive.change")
    spec, higher_worse, r, s, cut, crit = cp.spec, cp.higher_worse, cp.reliability, cp.sd, cp.cutoff, cp.criterion
    with self._engine.begin() as conn:
        w1, _ = self._wave_id(conn, from_wave, "Archive.change")
        w2, _ = self._wave_id(conn, to_wave, "Archive.change")
        a = _canon(self, conn, _score_values(self, conn, w1, score))
        b = _canon(self, conn, _score_values(self, conn, w2, score))
        _db.log(conn, actor=who, action="change", n_subjects=0, obj=f"{score} {from_wave} -> {to_wave}")
    m = a.merge(b, on="subject_id", suffixes=("_1", "_2"))
    out = pd.DataFrame({"pseudonym": m["pseudonym_2"].to_numpy(), "before": m["x_1"].astype("float64").to_numpy(),
                        "after": m["x_2"].astype("float64").to_numpy()})
    out["difference"] = out["after"] - out["before"]
    s_diff = cp.s_diff
    out["rci"] = out["difference"] / s_diff
    better = -out["rci"] if higher_worse else out["rci"]
    known = out["rci"].notna()
    reliable = np.select([better > crit, better < -crit], ["improved", "deteriorated"], "no_change")
    clinical = np.select([better > crit, better < -crit], ["improved", "deteriorated"], "unchanged").astype(object)
    if cut is not None:
        case1 = out["before"] >= cut if higher_worse else out["before"] <= cut
        case2 = out["after"] >= cut if higher_worse else out["after"] <= cut
        clinical = np.where((reliable == "improved") & case1 & ~case2, "recovered", clinical)
        clinical = np.where((reliable == "deteriorated") & ~case1 & case2, "harmed", clinical)
    # (numpy stubs: None is a valid object scalar for np.where)
    out["reliable"] = pd.array(np.where(known, reliable, None), dtype="string")  # type: ignore[call-overload]
    out["clinical"] = pd.array(np.where(known, clinical, None), dtype="string")
    out.attrs["change"] = {"score": score, "reliability": r, "sd": s, "s_diff": s_diff, "criterion": crit,
                           "rc": crit * s_diff, "cutoff": cut,
                           "source": None if spec is None or (reliability is not None and sd is not None) else
                           {"reliability": spec.reliability.source.ref, "sd": spec.sd.source.ref}}
    return out


def _all_current(self: Archive, conn: Any) -> pd.DataFrame:
    """Every current record (no group columns, no pseudonyms: see :func:`_with_pseudonyms`), sorted by student
    then wave date — the lean read ``due``, ``watchlist`` and ``previous`` need over a whole city."""
    recs = _db.fetch(conn, sa.select(record.c.subject_id, record.c.wave_id, record.c.tier, record.c.urgent,
                                     record.c.rescreen, record.c.follow_up_days).where(self._current(conn)))
    recs = _canon(self, conn, recs)
    waves = _db.fetch(conn, sa.select(wave.c.wave_id, wave.c.label, wave.c.on))
    waves["on"] = pd.to_datetime(waves["on"])
    waves = waves.sort_values(["on", "wave_id"], kind="stable").reset_index(drop=True)
    rank = pd.Series(np.arange(len(waves)), index=waves["wave_id"].astype("int64"))
    wid = recs["wave_id"].astype("int64").to_numpy()
    r = rank.reindex(wid).to_numpy()
    order = np.lexsort((r, recs["subject_id"].astype("int64").to_numpy()))
    recs = recs.iloc[order].reset_index(drop=True)
    r = r[order]
    recs["wave"] = waves["label"].to_numpy(dtype=object)[r]
    recs["on"] = waves["on"].to_numpy()[r]
    return recs


def _with_pseudonyms(conn: Any, df: pd.DataFrame) -> pd.DataFrame:
    """Add the ``pseudonym`` column for the (few) subjects in ``df``."""
    if df.empty:
        return df.assign(pseudonym=pd.Series(dtype=object))
    ids = sorted({int(x) for x in df["subject_id"]})
    parts = [_db.fetch(conn, sa.select(subject.c.subject_id, subject.c.pseudonym).where(subject.c.subject_id.in_(ids[i:i + 30000])))
             for i in range(0, len(ids), 30000)]
    look = pd.concat(parts).set_index("subject_id")["pseudonym"]
    return df.assign(pseudonym=look.reindex(df["subject_id"].astype("int64").to_numpy()).to_numpy(dtype=object))


def _episodes(recs: pd.DataFrame, acts: pd.DataFrame) -> pd.DataFrame:
    """Per subject: latest record, start of the current non-green run and the length of the current tier run."""
    if recs.empty:
        return recs.assign(since_wave=[], since_on=[], waves_in_tier=[])
    g = recs.groupby("subject_id", sort=False)
    green = recs["tier"].eq("green")
    run_ng = green.astype(int).groupby(recs["subject_id"]).cumsum()
    tier_run = (recs["tier"] != g["tier"].shift()).astype(int).groupby(recs["subject_id"]).cumsum()
    recs = recs.assign(_ng=run_ng.to_numpy(), _tr=tier_run.to_numpy())
    last = recs.groupby("subject_id", sort=False).tail(1)
    ng = recs[~green].groupby(["subject_id", "_ng"], sort=False).agg(since_on=("on", "min"), since_wave=("wave", "first"))
    tr = recs.groupby(["subject_id", "_tr"], sort=False).size().rename("waves_in_tier")
    last = last.join(ng, on=["subject_id", "_ng"]).join(tr, on=["subject_id", "_tr"])
    if not acts.empty:
        closed = acts[acts["kind"].isin(["close_watch", "reopen_watch"])].sort_values("on", kind="stable")
        closed = closed.groupby("subject_id").tail(1)
        last = last.merge(closed[["subject_id", "kind", "on"]].rename(columns={"kind": "_ck", "on": "_con"}),
                          on="subject_id", how="left")
    else:
        last = last.assign(_ck=None, _con=pd.NaT)  # type: ignore[arg-type]  # pandas-stubs: NaT is a valid scalar
    return last


def _actions(conn: Any) -> pd.DataFrame:
    df = _db.fetch(conn, sa.select(action.c.subject_id, action.c.wave_id, action.c.kind, action.c.on, action.c.fulfils))
    df["on"] = pd.to_datetime(df["on"]) if len(df) else pd.Series(dtype="datetime64[ns]")
    return df


def _all_score_values(self: Archive, conn: Any, score: str) -> pd.DataFrame:
    """``subject_id, wave_id, x``: one score of every current record (NA where the wave did not give it)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSON

        # `json`, not `jsonb`: one key out of each row's text is read ~1.7x faster without building a jsonb value
        # (130,000 rows of ~530 bytes: 0.45 s against 0.76 s on the development server)
        value = sa.cast(sa.cast(record.c.data, JSON).op("->>")(score), sa.Float)
    else:
        value = sa.cast(sa.func.json_extract(record.c.data, '$."' + score.replace('"', "") + '"'), sa.Float)
    return _db.fetch(conn, sa.select(record.c.subject_id, record.c.wave_id, value.label("x")).where(self._current(conn)),
                     ["subject_id", "wave_id", "x"])


def _reliable_episodes(recs: pd.DataFrame, cp: _ChangeParams) -> pd.DataFrame:
    """Episodes that close only on a green wave with reliable improvement since the episode's first wave.

    ``recs`` is sorted by subject then wave date and has the score in ``x``. Walks the waves by position (a
    loop over wave numbers, not over students): an episode opens at a non-green wave when none is open, keeps
    its first wave's score, and closes at a green wave whose score is reliably better (Jacobson–Truax, the
    scale's ``change:`` block). A score missing at either end never counts as improved: the episode stays open.
    Returns per subject with an open episode: ``subject_id, since_row, start_x`` (``since_row`` indexes ``recs``).
    """
    sid = recs["subject_id"].to_numpy(dtype=np.int64)
    codes, uniq = pd.factorize(sid)
    pos = pd.Series(codes).groupby(codes).cumcount().to_numpy()
    tier = recs["tier"]
    known = tier.notna().to_numpy()
    green = tier.eq("green").fillna(False).to_numpy(dtype=bool)
    x = recs["x"].to_numpy(dtype=float)
    is_open = np.zeros(len(uniq), dtype=bool)
    start = np.full(len(uniq), np.nan)
    since = np.full(len(uniq), -1, dtype=np.int64)
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(int(pos.max(initial=-1)) + 2))
    for k in range(len(bounds) - 1):
        rows = order[bounds[k]:bounds[k + 1]]
        subs = codes[rows]
        opening = ~is_open[subs] & known[rows] & ~green[rows]
        start[subs[opening]] = x[rows[opening]]
        since[subs[opening]] = rows[opening]
        is_open[subs[opening]] = True
        with np.errstate(invalid="ignore"):
            gain = (start[subs] - x[rows]) if cp.higher_worse else (x[rows] - start[subs])
            improved = gain / cp.s_diff > cp.criterion
        closing = is_open[subs] & green[rows] & improved
        is_open[subs[closing]] = False
    return pd.DataFrame({"subject_id": uniq[is_open], "since_row": since[is_open], "start_x": start[is_open]})


def watchlist(self: Archive, *, close_on: str = "green", score: str | None = None, reliability: float | None = None,
              sd: float | None = None, criterion: float | None = None, actor: str | None = None) -> pd.DataFrame:
    """Students followed until green: one row per open episode (not closed by a later wave or by a
    professional), most serious first — ``pseudonym, tier, urgent, since_wave, since_on, waves_in_tier,
    last_wave, last_on``.

    An episode opens at the first non-green wave after green (or the first wave). With ``close_on="green"``
    (default) it closes at a later green wave. With ``close_on="reliable_improvement"`` and ``score`` (e.g.
    ``"phq9.total"``) a green wave closes it only when that score improved reliably since the episode's first
    wave (Jacobson–Truax, from the scale's cited ``change:`` block unless ``reliability``/``sd``/``criterion``
    are passed); a score missing at either end keeps the episode open, and the list then also has
    ``start_score``, ``latest_score`` and ``rci``. Either way a ``close_watch`` action on or after the latest
    wave closes it.
    """
    from .core import _tier_sort

    who = self._actor(actor, "Archive.watchlist")
    if close_on not in ("green", "reliable_improvement"):
        raise invalid("Archive.watchlist", "close_on", "'green' or 'reliable_improvement'", close_on)
    reliable = close_on == "reliable_improvement"
    if reliable and not isinstance(score, str):
        raise invalid("Archive.watchlist", "score", "a score such as 'phq9.total' when close_on='reliable_improvement'",
                      score)
    cp = _change_params(score, reliability, sd, None, criterion, "Archive.watchlist") if reliable and score else None
    with self._engine.begin() as conn:
        recs = _all_current(self, conn)
        acts = _actions(conn)
        last = _episodes(recs, _canon(self, conn, acts) if len(acts) else acts)
        if cp is not None and score is not None:
            xs = _canon(self, conn, _all_score_values(self, conn, score))
            recs = recs.merge(xs.astype({"subject_id": "int64", "wave_id": "int64"}), how="left",
                              on=["subject_id", "wave_id"], validate="one_to_one") if len(recs) else recs.assign(x=[])
            ep = _reliable_episodes(recs, cp)
            since = ep["since_row"].to_numpy()
            ep = ep.assign(since_wave=recs["wave"].to_numpy()[since], since_on=recs["on"].to_numpy()[since])
            last = last.drop(columns=["since_wave", "since_on"]).merge(ep.drop(columns="since_row"), on="subject_id")
            last = last.merge(recs.groupby("subject_id", sort=False).tail(1)[["subject_id", "x"]], on="subject_id", how="left")
            open_ = _with_pseudonyms(conn, last[last["tier"].notna()])
        else:
            open_ = _with_pseudonyms(conn, last[last["tier"].notna() & last["tier"].ne("green")])
        if "_ck" in open_:
            closed = open_["_ck"].eq("close_watch") & (open_["_con"] >= open_["on"])
            open_ = open_[~closed.fillna(False).astype(bool)]
        _db.log(conn, actor=who, action="watchlist", n_subjects=len(open_))
    rank = {t: i for i, t in enumerate(_tier_sort(recs["tier"].dropna()))}
    out = pd.DataFrame({"pseudonym": open_["pseudonym"].to_numpy(), "tier": open_["tier"].to_numpy(),
                        "urgent": open_["urgent"].astype("boolean").to_numpy(),
                        "since_wave": open_["since_wave"].to_numpy(), "since_on": pd.to_datetime(open_["since_on"]).dt.date.to_numpy(),
                        "waves_in_tier": open_["waves_in_tier"].astype("int64").to_numpy(),
                        "last_wave": open_["wave"].to_numpy(), "last_on": open_["on"].dt.date.to_numpy()})
    if cp is not None:
        out["start_score"] = open_["start_x"].astype("float64").to_numpy()
        out["latest_score"] = open_["x"].astype("float64").to_numpy()
        out["rci"] = (out["latest_score"] - out["start_score"]) / cp.s_diff
        out.attrs["change"] = {"score": score, "reliability": cp.reliability, "sd": cp.sd, "s_diff": cp.s_diff,
                               "criterion": cp.criterion}
    out["_r"] = out["tier"].map(rank)
    out = out.sort_values(["urgent", "_r", "since_on"], ascending=[False, False, True], kind="stable")
    return out.drop(columns="_r").reset_index(drop=True)


def due(self: Archive, on: Any = None, *, within: int = 0, rescreen_days: int = 14, actor: str | None = None) -> pd.DataFrame:
    """Follow-ups and re-screens due by ``on`` (default today) or overdue, urgent first.

    From each student's latest wave: a ``follow_up`` item for a non-green tier, due ``follow_up_days`` after the
    screening (the rule set's value; 0 for urgent), and a ``rescreen`` item when the result asked for one, due
    ``rescreen_days`` after (14: the default rule set's re-screen action). An item leaves the list when an action
    ``fulfils`` it (:meth:`record_action`), or when a later wave is screened. ``within`` adds items due in the next
    days. Columns: ``pseudonym, wave, item, due_on, days_overdue, status, urgent, tier``.
    """
    from .core import _date

    day = _date(on if on is not None else dt.date.today(), "on", "Archive.due")
    who = self._actor(actor, "Archive.due")
    with self._engine.begin() as conn:
        recs = _all_current(self, conn)
        acts = _actions(conn)
        sid = recs["subject_id"].to_numpy()
        last = recs[np.r_[sid[1:] != sid[:-1], True]] if len(recs) else recs
        last = last[(last["tier"].notna() & last["tier"].ne("green") & last["follow_up_days"].notna())
                    | last["rescreen"].fillna(False).astype(bool)]
        last = _with_pseudonyms(conn, last)
        fu = last[last["tier"].notna() & last["tier"].ne("green") & last["follow_up_days"].notna()]
        rs = last[last["rescreen"].fillna(False).astype(bool)]
        items = pd.concat([
            fu.assign(item="follow_up", due_on=fu["on"] + pd.to_timedelta(fu["follow_up_days"].astype(float), unit="D")),
            rs.assign(item="rescreen", due_on=rs["on"] + pd.to_timedelta(rescreen_days, unit="D")),
        ], ignore_index=True)
        if len(acts) and len(items):
            acts = _canon(self, conn, acts)
            done = acts.dropna(subset=["fulfils"])[["subject_id", "wave_id", "fulfils"]].drop_duplicates()
            done = done.assign(_done=True, wave_id=done["wave_id"].astype("int64"))
            items = items.merge(done.rename(columns={"fulfils": "item"}), on=["subject_id", "wave_id", "item"], how="left")
            items = items[items["_done"].isna()]
        limit = pd.Timestamp(day) + pd.Timedelta(days=within)
        items = items[items["due_on"] <= limit] if len(items) else items
        _db.log(conn, actor=who, action="due", n_subjects=int(items["subject_id"].nunique()) if len(items) else 0)
    if items.empty:
        return pd.DataFrame({"pseudonym": pd.Series(dtype=object), "wave": pd.Series(dtype=object),
                             "item": pd.Series(dtype=object), "due_on": pd.Series(dtype=object),
                             "days_overdue": pd.Series(dtype="int64"), "status": pd.Series(dtype=object),
                             "urgent": pd.Series(dtype="boolean"), "tier": pd.Series(dtype=object)})
    overdue = (pd.Timestamp(day) - items["due_on"]).dt.days.astype("int64")
    out = pd.DataFrame({"pseudonym": items["pseudonym"].to_numpy(), "wave": items["wave"].to_numpy(),
                        "item": items["item"].to_numpy(), "due_on": items["due_on"].dt.date.to_numpy(),
                        "days_overdue": overdue.to_numpy(),
                        "status": np.select([overdue > 0, overdue == 0], ["overdue", "due"], "upcoming"),
                        "urgent": items["urgent"].astype("boolean").to_numpy(), "tier": items["tier"].to_numpy()})
    return out.sort_values(["urgent", "due_on", "pseudonym"], ascending=[False, True, True], kind="stable").reset_index(drop=True)


def previous(self: Archive, ids: Any, *, before: Any = None, actor: str | None = None) -> pd.DataFrame:
    """The previous wave of these students, as extra named inputs for rules (aligned with ``ids``).

    Columns ``prev.tier``, ``prev.wave``, ``prev.on`` and ``prev.waves_in_tier`` (how many consecutive latest
    waves the student has been in that tier); students never archived get NA (unknown, not "green").
    ``before`` (a date) ignores waves on or after it — use the date of the screening being tiered. The read is
    logged.
    """
    from .core import _date

    who = self._actor(actor, "Archive.previous")
    limit = _date(before, "before", "Archive.previous") if before is not None else None
    pseudo = self.pseudonyms(ids)
    with self._engine.begin() as conn:
        recs = _all_current(self, conn)
        if limit is not None:
            recs = recs[recs["on"] < pd.Timestamp(limit)]
        last = _with_pseudonyms(conn, _episodes(recs, pd.DataFrame()))
        _db.log(conn, actor=who, action="read_previous", n_subjects=int(pseudo.notna().sum()))
    look = last.set_index("pseudonym") if len(last) else pd.DataFrame(columns=["tier", "wave", "on", "waves_in_tier"])
    idx = pd.Index(pseudo.astype(object))
    out = pd.DataFrame(index=pseudo.index)
    out["prev.tier"] = pd.array(look["tier"].reindex(idx).to_numpy(), dtype="string")
    out["prev.wave"] = pd.array(look["wave"].reindex(idx).to_numpy(), dtype="string")
    out["prev.on"] = pd.to_datetime(look["on"].reindex(idx)).dt.date.to_numpy() if len(look) else None
    out["prev.waves_in_tier"] = pd.array(look["waves_in_tier"].reindex(idx).to_numpy(), dtype="Int64")
    return out
