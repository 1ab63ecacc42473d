"""The whole rule program in one compiled pass per student (optional, needs numba).

:func:`~screening.tiering.assign.assign_tiers` evaluates every rule on whole columns: each
comparison, ``and``/``or``, the possibly-true masks, the tier maxima, the re-screen list and the
pattern of what fired is a pass over a million-element array, about thirty passes in all. Here the
rule set is compiled once (cached on the :class:`~screening.tiering.ruleset.RuleSet`) into a small
instruction table — comparisons of symbol values and of their bounds over the answers to blank
items against constants, ``in`` lists, ``is missing``, true/false names, ``not``/``and``/``or`` —
and one numba kernel *interprets* that table for each student in turn, then applies the
critical-item, data-quality, tier, escalation, urgent, re-screen and could-change logic of
:func:`~screening.tiering.assign.assign_tiers` and numbers the pattern of fired sources, writing
the tier, the outcome code, the follow-up days and the pattern codes. Nothing is generated from the
rule text: the kernel is fixed code reading integers and floats.

Each comparison is judged in the four-valued logic of :mod:`screening.tiering.condition` (definitely
true / false, possibly true / false over the interval the blank answers leave): where a value is
known the comparison of the value decides; where it is unknown, the bounds decide (a missing value
with no bounds is neither). This is what ``evaluate_possible`` gives, row by row, so the results are
identical to the column-wise path (``tests/test_tiering_program.py`` compares them on simulated
populations with blanks for every built-in rule set and for random rule sets).

The pass runs when numba is installed (the ``fast`` extra), the table has at least
:data:`~screening.engine.fused.MIN_ROWS` rows and the rule program fits (every condition made of
comparisons, ``in`` lists, ``is missing`` and names under ``not``/``and``/``or``; at most 32,767
distinct patterns); otherwise the column-wise path runs, with the same results. The patterns are
bit sets over the sources that can fire (one ``uint64`` word per 64 sources), numbered in order of
first appearance through a lookup table (at most 16 sources) or open addressing, as
``_pattern_codes`` numbers them. ``SCREENING_FUSED=0`` switches it off, as for the scoring kernel.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .. import columns as C
from .condition import UNKNOWN, Codes, Numbers, Truths, Value
from .expr import And, Compare, InList, IsMissing, Literal, Name, Node, Not, Or

if TYPE_CHECKING:
    from ..scoring import Scale
    from .ruleset import RuleSet

__all__ = ["run_program", "compiled_rules", "compiled_pass_runs", "dead_rules"]

# instruction opcodes (columns of the table: opcode, a, b, op/negated, pts start, pts length / is band)
_CMP, _IN, _MISS, _NAME, _NOT, _AND, _OR = range(7)
#: comparison operators and their negations (codes in the table)
_OPCODE = {">=": 0, ">": 1, "<=": 2, "<": 3, "==": 4, "!=": 5}
_NEG = np.array([3, 2, 1, 0, 5, 4], dtype=np.int64)
#: operand slots: a symbol's slot (>= 0), a literal, or a symbol whose source is absent
_LIT, _ABSENT = -1, -2

_kernel: Any = None
_failed = False

#: patterns of at most this many sources are numbered through a dense lookup table (2**bits entries)
_LUT_BITS = 16


def _compile_kernel() -> Any:  # pragma: no cover - the body is compiled by numba (tested through run_program)
    import numba

    @numba.njit(nogil=True, cache=True, boundscheck=False)
    def kernel(n: int, sym_kind: Any, sym_ref: Any, known_all: Any, need_dense: Any, fl: Any, cl: Any, tv: Any, tk: Any,
               b_rows: Any, b_lo: Any, b_hi: Any, m_rows: Any,
               prog: Any, lits: Any, pts: Any, depth: int,
               r_start: Any, r_end: Any, r_tier: Any, r_esc: Any, r_urgent: Any, r_tbit: Any, r_pbit: Any, r_lbit: Any,
               c_masks: Any, c_tier: Any, c_urgent: Any, c_proj: Any, c_ptier: Any, c_days: Any, c_bits: Any,
               c_anyp: Any, c_anyb: Any, r_maybe: Any,
               statuses: Any, d_status: Any, d_code: Any, d_tier: Any, d_mode: Any, d_bits: Any,
               top: int, follow_table: Any, lut_bits_f: int, lut_bits_l: int,
               tier_out: Any, urgent_out: Any, rescreen_out: Any, ask_out: Any, outcome_out: Any, follow_out: Any,
               codes_f: Any, codes_l: Any, uniq_f: Any, uniq_l: Any, max_codes: int) -> Any:
        # students are taken in blocks; within a block every step is a loop over the block's students
        # (instruction outer, student inner), so the loops vectorise and the typed lists are read once a block
        B = 1024
        nsym = len(sym_kind)
        ns = max(nsym, 1)
        sv = np.empty((ns, B))
        slo = np.empty((ns, B))
        shi = np.empty((ns, B))
        smb = np.zeros((ns, B), np.bool_)
        wide = np.zeros(ns, np.bool_)
        mat = np.zeros(ns, np.bool_)
        gi = np.empty(B, np.int64)  # students of a block with bounds, and their values and bounds
        gx = np.empty(B)
        gxl = np.empty(B)
        gxh = np.empty(B)
        gy = np.empty(B)
        gyl = np.empty(B)
        gyh = np.empty(B)
        hasmb = np.zeros(ns, np.bool_)
        bcur = np.zeros(ns, np.int64)
        mcur = np.zeros(ns, np.int64)
        bs0 = np.zeros(ns, np.int64)  # this block's entries of each symbol's bounds rows
        bs1 = np.zeros(ns, np.int64)
        nprog = prog.shape[0]
        litbuf = np.empty((max(nprog, 1) * 2, B))
        for pc in range(nprog):
            litbuf[2 * pc, :] = lits[pc, 0]
            litbuf[2 * pc + 1, :] = lits[pc, 1]
        st_t = np.zeros((depth + 1, B), np.bool_)
        st_f = np.zeros((depth + 1, B), np.bool_)
        st_p = np.zeros((depth + 1, B), np.bool_)
        st_q = np.zeros((depth + 1, B), np.bool_)
        nrule = len(r_start)
        rt = np.zeros((max(nrule, 1), B), np.bool_)
        ronly = np.zeros((max(nrule, 1), B), np.bool_)
        ncrit = len(c_tier)
        ndq = len(d_status)
        dqm = np.zeros((max(ndq, 1), B), np.bool_)
        nwf = uniq_f.shape[1]
        nwl = uniq_l.shape[1]
        wf = np.zeros((nwf, B), np.uint64)
        wl = np.zeros((nwl, B), np.uint64)
        tier = np.zeros(B, np.int64)
        esc = np.zeros(B, np.int64)
        base = np.zeros(B, np.int64)
        urg = np.zeros(B, np.bool_)
        resc = np.zeros(B, np.bool_)
        ask = np.zeros(B, np.bool_)
        could = np.zeros(B, np.bool_)
        tmp = np.zeros(B, np.bool_)
        any_interview = False
        for c in range(ncrit):
            any_interview |= c_proj[c] == 1 and c_anyp[c]
        below = np.zeros(B, np.bool_)
        interview = np.empty(B)
        # pattern numbering: a dense lookup table when the sources are few, else open addressing
        size = 1
        while size < uniq_f.shape[0] * 2:
            size *= 2
        mask_bits = size - 1
        lut_f = np.full(1 << lut_bits_f if lut_bits_f > 0 else 1, -1, np.int64)
        lut_l = np.full(1 << lut_bits_l if lut_bits_l > 0 else 1, -1, np.int64)
        keys_f = np.zeros((size if lut_bits_f == 0 else 1, nwf), np.uint64)
        vals_f = np.full(size if lut_bits_f == 0 else 1, -1, np.int64)
        keys_l = np.zeros((size if lut_bits_l == 0 else 1, nwl), np.uint64)
        vals_l = np.full(size if lut_bits_l == 0 else 1, -1, np.int64)
        uniq_f[0, :] = 0
        uniq_l[0, :] = 0
        if lut_bits_f > 0:
            lut_f[0] = 0
        if lut_bits_l > 0:
            lut_l[0] = 0
        kf = 1
        kl = 1
        for i0 in range(0, n, B):
            m = min(B, n - i0)
            i1 = i0 + m
            # each symbol's values, and its interval over the answers to blank items where there is one
            for j in range(nsym):
                kind = sym_kind[j]
                r = sym_ref[j]
                v = sv[j]
                if kind == 0:
                    a = fl[r]
                    for ii in range(m):
                        v[ii] = a[i0 + ii]
                elif kind == 1:
                    ca = cl[r]
                    for ii in range(m):
                        c = ca[i0 + ii]
                        v[ii] = float(c) if c >= 0 else np.nan
                else:
                    ta = tv[r]
                    if known_all[j]:
                        for ii in range(m):
                            v[ii] = 1.0 if ta[i0 + ii] else 0.0
                    else:
                        ka = tk[r]
                        for ii in range(m):
                            v[ii] = (1.0 if ta[i0 + ii] else 0.0) if ka[i0 + ii] else np.nan
                rows = b_rows[j]
                bc = bcur[j]
                bs0[j] = bc
                bs1[j] = bc
                wide[j] = False
                mat[j] = False
                if bc < len(rows) and rows[bc] < i1:
                    wide[j] = True
                    cnt = bc
                    while cnt < len(rows) and rows[cnt] < i1:
                        cnt += 1
                    # lower/upper arrays for the block when an `in` list or a comparison of two names reads it, or
                    # when most students of the block have bounds (then a whole-block loop beats row by row)
                    mat[j] = need_dense[j] or (cnt - bc) * 4 > m
                    if mat[j]:
                        for ii in range(m):
                            slo[j, ii] = v[ii]
                        for ii in range(m):
                            shi[j, ii] = v[ii]
                        la = b_lo[j]
                        ha = b_hi[j]
                        while bc < len(rows) and rows[bc] < i1:
                            slo[j, rows[bc] - i0] = la[bc]
                            shi[j, rows[bc] - i0] = ha[bc]
                            bc += 1
                    else:  # comparisons with a constant read the bounds where they are (see below)
                        while bc < len(rows) and rows[bc] < i1:
                            bc += 1
                    bcur[j] = bc
                    bs1[j] = bc
                mrows = m_rows[j]
                mc = mcur[j]
                hasmb[j] = False
                if mc < len(mrows) and mrows[mc] < i1:
                    if not wide[j]:
                        for ii in range(m):
                            slo[j, ii] = v[ii]
                        for ii in range(m):
                            shi[j, ii] = v[ii]
                        wide[j] = True
                    mat[j] = True
                    hasmb[j] = True
                    for ii in range(m):
                        smb[j, ii] = False
                    while mc < len(mrows) and mrows[mc] < i1:
                        smb[j, mrows[mc] - i0] = True
                        slo[j, mrows[mc] - i0] = 0.0
                        shi[j, mrows[mc] - i0] = 1.0
                        mc += 1
                    mcur[j] = mc
            # the rules: a stack machine over (true, false, possibly true, possibly false) planes
            for k in range(nrule):
                sp = 0
                for pc in range(r_start[k], r_end[k]):
                    code = prog[pc, 0]
                    if code == 1 and prog[pc, 5] == 0:  # `x in []`: false whatever x is (`not in []`: true)
                        neg = prog[pc, 3] == 1
                        for ii in range(m):
                            st_t[sp, ii] = neg
                        for ii in range(m):
                            st_f[sp, ii] = not neg
                        for ii in range(m):
                            st_p[sp, ii] = neg
                        for ii in range(m):
                            st_q[sp, ii] = not neg
                        sp += 1
                        continue
                    if (code == 0 or code == 1 or code == 3) and (prog[pc, 1] == -2 or (code == 0 and prog[pc, 2] == -2)):
                        # an absent source: neither true nor false, nor possibly
                        for ii in range(m):
                            st_t[sp, ii] = False
                        for ii in range(m):
                            st_f[sp, ii] = False
                        for ii in range(m):
                            st_p[sp, ii] = False
                        for ii in range(m):
                            st_q[sp, ii] = False
                        sp += 1
                        continue
                    t_ = st_t[sp]
                    f_ = st_f[sp]
                    p_ = st_p[sp]
                    q_ = st_q[sp]
                    if code == 0:  # compare
                        a = prog[pc, 1]
                        b = prog[pc, 2]
                        op = prog[pc, 3]
                        if a == -1:
                            av = litbuf[2 * pc]
                            al = av
                            ah = av
                            wa = False
                        else:
                            av = sv[a]
                            wa = wide[a]
                            al = slo[a] if wa and mat[a] else av
                            ah = shi[a] if wa and mat[a] else av
                        if b == -1:
                            bv = litbuf[2 * pc + 1]
                            bl = bv
                            bh = bv
                            wb = False
                        else:
                            bv = sv[b]
                            wb = wide[b]
                            bl = slo[b] if wb and mat[b] else bv
                            bh = shi[b] if wb and mat[b] else bv
                        # every student by the values (a missing value compares false: neither true nor false)
                        if op == 0:
                            for ii in range(m):
                                x = av[ii]
                                y = bv[ii]
                                byv = x >= y
                                t_[ii] = byv
                                f_[ii] = (x == x) & (y == y) & (not byv)
                        elif op == 1:
                            for ii in range(m):
                                x = av[ii]
                                y = bv[ii]
                                byv = x > y
                                t_[ii] = byv
                                f_[ii] = (x == x) & (y == y) & (not byv)
                        elif op == 2:
                            for ii in range(m):
                                x = av[ii]
                                y = bv[ii]
                                byv = x <= y
                                t_[ii] = byv
                                f_[ii] = (x == x) & (y == y) & (not byv)
                        elif op == 3:
                            for ii in range(m):
                                x = av[ii]
                                y = bv[ii]
                                byv = x < y
                                t_[ii] = byv
                                f_[ii] = (x == x) & (y == y) & (not byv)
                        elif op == 4:
                            for ii in range(m):
                                x = av[ii]
                                y = bv[ii]
                                byv = x == y
                                t_[ii] = byv
                                f_[ii] = (x == x) & (y == y) & (not byv)
                        else:
                            for ii in range(m):
                                x = av[ii]
                                y = bv[ii]
                                known = (x == x) & (y == y)
                                t_[ii] = known & (x != y)
                                f_[ii] = known & (x == y)
                        for ii in range(m):
                            p_[ii] = t_[ii]
                        for ii in range(m):
                            q_[ii] = f_[ii]
                        if wa or wb:  # then the students whose value blank items leave uncertain, over the interval
                            # one name against a constant: straight from that name's bounds entries in this block
                            direct = (a < 0 or b < 0) and not mat[a if a >= 0 else b]
                            if direct:  # gather the students with bounds, with their values and bounds
                                s_ = a if a >= 0 else b
                                npr = bs1[s_] - bs0[s_]
                                rws = b_rows[s_]
                                la = b_lo[s_]
                                ha = b_hi[s_]
                                e0 = bs0[s_]
                                for u in range(npr):
                                    ii = rws[e0 + u] - i0
                                    gi[u] = ii
                                    gx[u] = av[ii]
                                    gy[u] = bv[ii]
                                if a >= 0:
                                    for u in range(npr):
                                        gxl[u] = la[e0 + u]
                                        gxh[u] = ha[e0 + u]
                                        gyl[u] = gy[u]
                                        gyh[u] = gy[u]
                                else:
                                    for u in range(npr):
                                        gxl[u] = gx[u]
                                        gxh[u] = gx[u]
                                        gyl[u] = la[e0 + u]
                                        gyh[u] = ha[e0 + u]
                                xs, xls, xhs, ys, yls, yhs = gx, gxl, gxh, gy, gyl, gyh
                            else:  # lower/upper arrays: every student of the block
                                npr = m
                                for u in range(m):
                                    gi[u] = u
                                xs, xls, xhs, ys, yls, yhs = av, al, ah, bv, bl, bh
                            for u in range(npr):
                                ii = gi[u]
                                x = xs[u]
                                y = ys[u]
                                xl = xls[u]
                                xh = xhs[u]
                                yl = yls[u]
                                yh = yhs[u]
                                # the value's comparison, and over the intervals: every pair / some pair
                                # satisfies it or its negation (condition._ALL and condition._EXISTS)
                                same = (xl == xh) & (yl == yh) & (xl == yl)
                                meet = (xl <= yh) & (yl <= xh)
                                if op == 0:
                                    byv, at, sm, af, sf = x >= y, xl >= yh, xh >= yl, xh < yl, xl < yh
                                elif op == 1:
                                    byv, at, sm, af, sf = x > y, xl > yh, xh > yl, xh <= yl, xl <= yh
                                elif op == 2:
                                    byv, at, sm, af, sf = x <= y, xh <= yl, xl <= yh, xl > yh, xh > yl
                                elif op == 3:
                                    byv, at, sm, af, sf = x < y, xh < yl, xl < yh, xl >= yh, xh >= yl
                                elif op == 4:
                                    byv, at, sm = x == y, same, meet
                                    af = (xh < yl) | (yh < xl)
                                    sf = (not same) & (not math.isnan(xl + xh + yl + yh))
                                else:
                                    byv = x != y
                                    at = (xh < yl) | (yh < xl)
                                    sm = (not same) & (not math.isnan(xl + xh + yl + yh))
                                    af, sf = same, meet
                                known = (x == x) & (y == y)
                                bounded = (xl == xl) & (xh == xh) & (yl == yl) & (yh == yh)
                                if known:
                                    t = byv
                                    f = not byv
                                else:
                                    t = bounded & at
                                    f = bounded & af
                                t_[ii] = t
                                f_[ii] = f
                                p_[ii] = t | (bounded & sm)
                                q_[ii] = f | (bounded & sf)
                        sp += 1
                    elif code == 1:  # in [...]
                        a = prog[pc, 1]
                        vv = sv[a]
                        lov = slo[a] if mat[a] else vv
                        hiv = shi[a] if mat[a] else vv
                        p0 = prog[pc, 4]
                        np_ = prog[pc, 5]
                        cats = prog[pc, 2] == 1
                        neg = prog[pc, 3] == 1
                        for ii in range(m):
                            v0 = vv[ii]
                            lo = lov[ii]
                            hi = hiv[ii]
                            byv = False
                            inside = 0
                            has_lo = False
                            for u in range(p0, p0 + np_):
                                x = pts[u]
                                if v0 == x:
                                    byv = True
                                if x >= lo and x <= hi:
                                    inside += 1
                                if lo == x:
                                    has_lo = True
                            bounded = (lo == lo) & (hi == hi)
                            if cats:  # a band or status: whole-number positions lo..hi
                                all_in = inside == (hi - lo + 1)
                            else:
                                all_in = (lo == hi) & has_lo
                            if v0 == v0:
                                t = byv
                                f = not byv
                            else:
                                t = all_in & bounded
                                f = (inside == 0) & bounded
                            p = t | ((inside > 0) & bounded)
                            q = f | ((not all_in) & bounded)
                            if neg:
                                t_[ii], f_[ii], p_[ii], q_[ii] = f, t, q, p
                            else:
                                t_[ii], f_[ii], p_[ii], q_[ii] = t, f, p, q
                        sp += 1
                    elif code == 2:  # is (not) missing
                        a = prog[pc, 1]
                        neg = prog[pc, 3] == 1
                        if a == -2:
                            for ii in range(m):
                                t_[ii] = not neg
                                f_[ii] = neg
                                p_[ii] = not neg
                                q_[ii] = neg
                        else:
                            vv = sv[a]
                            for ii in range(m):
                                miss = (vv[ii] != vv[ii]) ^ neg
                                t_[ii] = miss
                                f_[ii] = not miss
                                p_[ii] = miss
                                q_[ii] = not miss
                        sp += 1
                    elif code == 3:  # a true/false name
                        a = prog[pc, 1]
                        vv = sv[a]
                        mbv = smb[a]
                        hm = hasmb[a]
                        for ii in range(m):
                            t = vv[ii] == 1.0
                            f = vv[ii] == 0.0
                            mb = hm and mbv[ii]
                            t_[ii] = t
                            f_[ii] = f
                            p_[ii] = t | mb
                            q_[ii] = f | mb
                        sp += 1
                    elif code == 4:  # not: swap true/false and possibly true/false
                        s = sp - 1
                        for ii in range(m):
                            t = st_t[s, ii]
                            st_t[s, ii] = st_f[s, ii]
                            st_f[s, ii] = t
                            p = st_p[s, ii]
                            st_p[s, ii] = st_q[s, ii]
                            st_q[s, ii] = p
                    else:  # and (5) / or (6) of the top prog[pc, 1] entries
                        s = sp - prog[pc, 1]
                        for u in range(s + 1, sp):
                            if code == 5:
                                for ii in range(m):
                                    st_t[s, ii] &= st_t[u, ii]
                                    st_f[s, ii] |= st_f[u, ii]
                                    st_p[s, ii] &= st_p[u, ii]
                                    st_q[s, ii] |= st_q[u, ii]
                            else:
                                for ii in range(m):
                                    st_t[s, ii] |= st_t[u, ii]
                                    st_f[s, ii] &= st_f[u, ii]
                                    st_p[s, ii] |= st_p[u, ii]
                                    st_q[s, ii] &= st_q[u, ii]
                        sp = s + 1
                for ii in range(m):
                    rt[k, ii] = st_t[0, ii]
                    ronly[k, ii] = st_p[0, ii] & (not st_t[0, ii])
            # what fired: critical items, data quality, rules (as assign_tiers lists them); one plain loop per
            # effect, without branches inside, so that each vectorises
            for u in range(nwf):
                for ii in range(m):
                    wf[u, ii] = 0
            for u in range(nwl):
                for ii in range(m):
                    wl[u, ii] = 0
            for ii in range(m):
                tier[ii] = 0
            for ii in range(m):
                esc[ii] = 0
            for ii in range(m):
                urg[ii] = False
            for ii in range(m):
                resc[ii] = False
            for ii in range(m):
                ask[ii] = False
            for ii in range(m):
                could[ii] = False
            if any_interview:
                for ii in range(m):
                    interview[ii] = np.nan
            for c in range(ncrit):
                mfa = c_masks[4 * c]
                pfa = c_masks[4 * c + 2]
                lvl = c_tier[c]
                wr = wf[c_bits[c, 0] >> 6]
                sh = np.uint64(c_bits[c, 0] & 63)
                for ii in range(m):
                    x = mfa[i0 + ii]
                    wr[ii] |= np.uint64(x) << sh
                    tier[ii] = max(tier[ii], lvl * x)
                if c_urgent[c]:
                    for ii in range(m):
                        urg[ii] |= mfa[i0 + ii]
                if not c_anyp[c]:
                    continue
                wr = wf[c_bits[c, 1] >> 6]
                sh = np.uint64(c_bits[c, 1] & 63)
                for ii in range(m):
                    wr[ii] |= np.uint64(pfa[i0 + ii]) << sh
                if c_proj[c] == 0:  # no second step: project-choice items act as crisis items
                    for ii in range(m):
                        tier[ii] = max(tier[ii], lvl * pfa[i0 + ii])
                    if c_urgent[c]:
                        for ii in range(m):
                            urg[ii] |= pfa[i0 + ii]
                else:
                    plvl = c_ptier[c]
                    wr = wl[c_bits[c, 2] >> 6]
                    sh = np.uint64(c_bits[c, 2] & 63)
                    days = c_days[c]
                    for ii in range(m):
                        y = pfa[i0 + ii]
                        tier[ii] = max(tier[ii], plvl * y)
                        wr[ii] |= np.uint64(y) << sh
                        resc[ii] |= y
                        if y and not (days >= interview[ii]):
                            interview[ii] = days
            for d in range(ndq):
                sa = statuses[d_status[d]]
                code8 = d_code[d]
                lvl = d_tier[d]
                dm = dqm[d]
                for ii in range(m):
                    dm[ii] = sa[i0 + ii] == code8
                if lvl >= 0:
                    for ii in range(m):
                        tier[ii] = max(tier[ii], lvl * dm[ii])
                if d_bits[d, 0] >= 0:
                    wr = wf[d_bits[d, 0] >> 6]
                    sh = np.uint64(d_bits[d, 0] & 63)
                    for ii in range(m):
                        wr[ii] |= np.uint64(dm[ii]) << sh
                if d_mode[d] == 1:
                    wr = wl[d_bits[d, 1] >> 6]
                    sh = np.uint64(d_bits[d, 1] & 63)
                    for ii in range(m):
                        resc[ii] |= dm[ii]
                        wr[ii] |= np.uint64(dm[ii]) << sh
            for k in range(nrule):
                lvl = r_tier[k]
                e = r_esc[k]
                rk = rt[k]
                wr = wf[r_tbit[k] >> 6]
                sh = np.uint64(r_tbit[k] & 63)
                for ii in range(m):
                    wr[ii] |= np.uint64(rk[ii]) << sh
                if lvl >= 0:
                    for ii in range(m):
                        tier[ii] = max(tier[ii], lvl * rk[ii])
                if e > 0:
                    for ii in range(m):
                        esc[ii] = max(esc[ii], e * rk[ii])
                if r_urgent[k]:
                    for ii in range(m):
                        urg[ii] |= rk[ii]
            for ii in range(m):
                b_ = tier[ii]
                base[ii] = b_
                t = min(b_ + esc[ii], top)
                t = top if urg[ii] else t
                tier[ii] = t
                below[ii] = t < top
            # possibly true: the re-screen / ask list where it could raise the outcome
            for c in range(ncrit):
                for which in range(2):  # the manual items, then the project-choice items
                    if not c_anyb[c, which]:
                        continue
                    blank = c_masks[4 * c + 1 + 2 * which]
                    manual = which == 0 or c_proj[c] == 0
                    lvl = c_tier[c] if manual else c_ptier[c]
                    crisis = manual and c_urgent[c]
                    if crisis:
                        for ii in range(m):
                            tmp[ii] = blank[i0 + ii] & (not urg[ii])
                    else:
                        for ii in range(m):
                            tmp[ii] = blank[i0 + ii] & (base[ii] < lvl) & below[ii]
                    bf_, bl_ = c_bits[c, 3 + 2 * which], c_bits[c, 4 + 2 * which]
                    _wf, _sf, _wl, _sl = wf[bf_ >> 6], np.uint64(bf_ & 63), wl[bl_ >> 6], np.uint64(bl_ & 63)
                    for ii in range(m):
                        x = tmp[ii]
                        _wf[ii] |= np.uint64(x) << _sf
                        _wl[ii] |= np.uint64(x) << _sl
                        resc[ii] |= x
                        could[ii] |= x
                    if crisis:
                        for ii in range(m):
                            ask[ii] |= tmp[ii]
            for k in range(nrule):
                if not r_maybe[k]:
                    continue
                ro = ronly[k]
                lvl = r_tier[k]
                e = r_esc[k]
                if r_urgent[k]:
                    for ii in range(m):
                        tmp[ii] = ro[ii] & (not urg[ii])
                elif lvl >= 0:
                    for ii in range(m):
                        tmp[ii] = ro[ii] & (base[ii] < lvl) & below[ii]
                else:
                    for ii in range(m):
                        tmp[ii] = ro[ii] & (esc[ii] < e) & below[ii]
                _wf, _sf = wf[r_pbit[k] >> 6], np.uint64(r_pbit[k] & 63)
                _wl, _sl = wl[r_lbit[k] >> 6], np.uint64(r_lbit[k] & 63)
                for ii in range(m):
                    x = tmp[ii]
                    _wf[ii] |= np.uint64(x) << _sf
                    _wl[ii] |= np.uint64(x) << _sl
                    resc[ii] |= x
                    could[ii] |= x
                if r_urgent[k]:
                    for ii in range(m):
                        ask[ii] |= tmp[ii]
            for d in range(ndq):
                if d_mode[d] != 2:
                    continue
                dm = dqm[d]
                for ii in range(m):
                    tmp[ii] = dm[ii] & could[ii]
                bo = d_bits[d, 2]
                wr = wf[max(bo, 0) >> 6]
                sh = np.uint64(max(bo, 0) & 63)
                if bo >= 0:
                    for ii in range(m):
                        wr[ii] |= np.uint64(tmp[ii]) << sh
                wr = wl[d_bits[d, 1] >> 6]
                sh = np.uint64(d_bits[d, 1] & 63)
                for ii in range(m):
                    wr[ii] |= np.uint64(tmp[ii]) << sh
                    resc[ii] |= tmp[ii]
            for ii in range(m):
                outcome = tier[ii] * 4 + 2 * urg[ii] + resc[ii]
                outcome_out[i0 + ii] = outcome
                tier_out[i0 + ii] = tier[ii]
                urgent_out[i0 + ii] = urg[ii]
                rescreen_out[i0 + ii] = resc[ii]
                ask_out[i0 + ii] = ask[ii]
                fu = follow_table[outcome]
                follow_out[i0 + ii] = 0.0 if ask[ii] else fu
            if any_interview:
                for ii in range(m):
                    iv = interview[ii]
                    fu = follow_out[i0 + ii]
                    if iv == iv and not ask[ii] and not (fu <= iv):
                        follow_out[i0 + ii] = iv
            # number the patterns in order of first appearance (0: nothing)
            for which in range(2):
                w_ = wf if which == 0 else wl
                lut = lut_f if which == 0 else lut_l
                use_lut = (lut_bits_f if which == 0 else lut_bits_l) > 0
                keys = keys_f if which == 0 else keys_l
                vals = vals_f if which == 0 else vals_l
                uniq = uniq_f if which == 0 else uniq_l
                codes = codes_f if which == 0 else codes_l
                kk = kf if which == 0 else kl
                nw = w_.shape[0]
                for ii in range(m):
                    if use_lut:
                        w = w_[0, ii]
                        code = lut[w]
                        if code < 0:
                            if kk > max_codes:
                                return -1, -1
                            code = kk
                            lut[w] = kk
                            uniq[kk, 0] = w
                            kk += 1
                    else:
                        h_ = np.uint64(0)
                        for u in range(nw):
                            h_ = (h_ ^ w_[u, ii]) * np.uint64(0x9E3779B97F4A7C15)
                        if h_ == 0:
                            empty = True
                            for u in range(nw):
                                if w_[u, ii] != 0:
                                    empty = False
                            if empty:
                                codes[i0 + ii] = 0
                                continue
                        h = np.int64(h_ >> np.uint64(40)) & mask_bits
                        while True:
                            if vals[h] < 0:
                                break
                            eq = True
                            for u in range(nw):
                                if keys[h, u] != w_[u, ii]:
                                    eq = False
                            if eq:
                                break
                            h = (h + 1) & mask_bits
                        code = vals[h]
                        if code < 0:
                            empty = True
                            for u in range(nw):
                                if w_[u, ii] != 0:
                                    empty = False
                            if empty:
                                code = 0
                            else:
                                if kk > max_codes:
                                    return -1, -1
                                code = kk
                                for u in range(nw):
                                    keys[h, u] = w_[u, ii]
                                    uniq[kk, u] = w_[u, ii]
                                vals[h] = kk
                                kk += 1
                    codes[i0 + ii] = code
                if which == 0:
                    kf = kk
                else:
                    kl = kk
        return kf, kl

    return kernel


_F64, _I8, _I64, _BOOL = "float64", "int8", "int64", "bool"


def _lists(*dtypes: str) -> list[Any]:
    """Empty numba typed lists of read-only 1-D arrays (columns of the caller's frames may be read-only views)."""
    import numba.typed

    return [numba.typed.List.empty_list(_array_type(d)) for d in dtypes]


@functools.lru_cache(maxsize=8)
def _array_type(dtype: str) -> Any:
    import numba

    kinds = {"float64": numba.float64, "int8": numba.int8, "int64": numba.int64, "bool": numba.boolean}
    return numba.types.Array(kinds[dtype], 1, "C", readonly=True)


def compiled_pass_runs(n: int) -> bool:
    """Whether :func:`run_program` would run for ``n`` students (numba installed, enough rows, not switched off);
    numba is not imported for small tables."""
    from ..engine.fused import MIN_ROWS

    return n >= MIN_ROWS and _get_kernel() is not None


def _get_kernel() -> Any:
    global _kernel, _failed
    if _kernel is None and not _failed and os.environ.get("SCREENING_FUSED", "1") != "0":
        try:
            _kernel = _compile_kernel()
        except ImportError:  # no numba: the column-wise path runs (same results)
            _failed = True
    return _kernel


# ---------------------------------------------------------------------------
# the rule program: compiled once per rule set


@dataclass(frozen=True)
class _Leaf:
    """One instruction before the symbols are placed: names and literals still as in the condition."""

    code: int
    a: Node | None = None
    b: Node | None = None
    op: int = 0
    negated: bool = False
    values: tuple[Literal, ...] = ()
    count: int = 0


def _postfix(node: Node, out: list[_Leaf]) -> int:
    """Append the instructions of ``node``; return the stack depth it needs (ValueError: not compilable)."""
    if isinstance(node, Compare):
        for side in (node.left, node.right):
            if not isinstance(side, (Name, Literal)):
                raise ValueError("a comparison of a sub-condition")
        out.append(_Leaf(_CMP, node.left, node.right, _OPCODE[node.op]))
        return 1
    if isinstance(node, InList):
        if not isinstance(node.operand, Name):
            raise ValueError("in-list of a sub-condition")
        out.append(_Leaf(_IN, node.operand, negated=node.negated, values=node.values))
        return 1
    if isinstance(node, IsMissing):
        out.append(_Leaf(_MISS, node.operand, negated=node.negated))
        return 1
    if isinstance(node, Name):
        out.append(_Leaf(_NAME, node))
        return 1
    if isinstance(node, Not):
        d = _postfix(node.item, out)
        out.append(_Leaf(_NOT))
        return d
    if isinstance(node, (And, Or)):
        depth = 0
        for k, it in enumerate(node.items):
            depth = max(depth, k + _postfix(it, out))
        out.append(_Leaf(_AND if isinstance(node, And) else _OR, count=len(node.items)))
        return depth
    raise ValueError(f"a {type(node).__name__} where a condition is expected")


@dataclass(frozen=True)
class CompiledRules:
    """Each rule's instructions (symbols by name) and the stack depth the program needs."""

    leaves: tuple[tuple[_Leaf, ...], ...]
    depth: int


def compiled_rules(rs: RuleSet) -> CompiledRules | None:
    """The rule set's conditions as postfix instructions, built once and kept on the rule set (None: some
    condition has a form the kernel does not run, and the column-wise path is used)."""
    cached: Any = rs.__dict__.get("_program")
    if cached is None:
        try:
            leaves, depth = [], 0
            for cond in rs.conditions:
                out: list[_Leaf] = []
                depth = max(depth, _postfix(cond.ast, out))
                leaves.append(tuple(out))
            cached = CompiledRules(tuple(leaves), depth)
        except ValueError:
            cached = False
        object.__setattr__(rs, "_program", cached)  # the rule set is frozen; this is a cache, like cached_property
    return cached if isinstance(cached, CompiledRules) else None


def _never(node: Node, absent: set[str]) -> tuple[bool, bool, bool, bool]:
    """Whether each of (true, false, possibly true, possibly false) is false for every student when the
    symbols ``absent`` are unknown everywhere (an abstract run of the four-valued logic)."""
    if isinstance(node, InList) and not node.values:  # `x in []`: false for everyone, known or not
        return (False, True, False, True) if node.negated else (True, False, True, False)
    if isinstance(node, (Compare, InList)):
        names = [s for s in ((node.left, node.right) if isinstance(node, Compare) else (node.operand,)) if isinstance(s, Name)]
        dead = any(s.dotted in absent for s in names)
        return dead, dead, dead, dead
    if isinstance(node, Name):
        dead = node.dotted in absent
        return dead, dead, dead, dead
    if isinstance(node, IsMissing):
        if node.operand.dotted in absent:  # missing everywhere
            return (True, False, True, False) if node.negated else (False, True, False, True)
        return False, False, False, False
    if isinstance(node, Not):
        t, f, p, q = _never(node.item, absent)
        return f, t, q, p
    parts = [_never(it, absent) for it in node.items]  # type: ignore[union-attr]
    anyp = [any(x[k] for x in parts) for k in range(4)]
    allp = [all(x[k] for x in parts) for k in range(4)]
    if isinstance(node, And):
        return anyp[0], allp[1], anyp[2], allp[3]
    return allp[0], anyp[1], allp[2], anyp[3]


def dead_rules(rs: RuleSet, values: Mapping[str, Value]) -> frozenset[int]:
    """Positions of the rules that are neither true nor possibly true for anyone when the inputs whose value
    is UNKNOWN are not given (kept on the rule set per set of absent inputs: a screen call asks once)."""
    absent = frozenset(name for name, v in values.items() if v is UNKNOWN)
    cache: dict[frozenset[str], frozenset[int]] = rs.__dict__.setdefault("_dead_rules", {})
    dead = cache.get(absent)
    if dead is None:
        dead = cache[absent] = frozenset(k for k, cond in enumerate(rs.conditions) if _never(cond.ast, set(absent))[2])
    return dead


# ---------------------------------------------------------------------------
# one call: place the symbols, lay out the sources, run


def _literal_point(lit: Literal, cats: tuple[str, ...] | None) -> float:
    v = lit.value
    if isinstance(v, str):
        return float(cats.index(v)) if cats is not None and v in cats else -2.0
    return float(v)


def run_program(
    rules: RuleSet, values: Mapping[str, Value], n: int, screened: Mapping[str, Scale],
    statuses: Mapping[str, npt.NDArray[np.int8]], critical: Mapping[str, Any],
    *, bounds: Mapping[str, Any], maybe: Mapping[str, Any], read_scales: Sequence[str] | None,
    scale_reason: Any, possible_text: Any, force: bool = False,
) -> dict[str, Any] | None:
    """Tier, urgent, re-screen, ask-today, outcome and follow-up per student, and the two pattern codes with
    the sources of each pattern; None when the kernel cannot run (no numba, a small table unless ``force``,
    a program too large) — the caller then runs the column-wise path."""
    from ..engine.fused import MIN_ROWS
    from .assign import CriticalMasks

    if n < MIN_ROWS and not force:
        return None
    kernel = _get_kernel()
    prog_rules = compiled_rules(rules) if kernel is not None else None
    if prog_rules is None:
        return None
    spec = rules.spec
    tiers = spec.tier_ids()
    tier_pos = {t: i for i, t in enumerate(tiers)}
    crit = spec.critical_items
    fired: list[tuple[str, Any]] = []
    later: list[tuple[str, Any]] = []

    # the symbols some live rule reads, with their arrays
    absent = {name for name, v in values.items() if v is UNKNOWN}
    live: list[int] = []
    for k, cond in enumerate(rules.conditions):
        if not _never(cond.ast, absent)[2]:  # possibly true for someone: evaluated per student
            live.append(k)
    slot: dict[str, int] = {}
    kinds: list[int] = []
    refs: list[int] = []
    known_all: list[bool] = []
    fl, cl, tv, tk = _lists(_F64, _I8, _BOOL, _BOOL)
    b_rows, b_lo, b_hi, m_rows = _lists(_I64, _F64, _F64, _I64)
    no_rows = np.empty(0, dtype=np.int64)
    no_vals = np.empty(0, dtype=np.float64)
    cats_of: dict[str, tuple[str, ...]] = {}

    def place(name: str) -> int:
        if name in slot:
            return slot[name]
        raw = values[name]
        if raw is UNKNOWN:
            return _ABSENT
        if isinstance(raw, Numbers):
            kinds.append(0)
            refs.append(len(fl))
            fl.append(np.ascontiguousarray(raw.values, dtype=np.float64))
            known_all.append(True)
        elif isinstance(raw, Codes):
            if len(raw.categories) > 127:
                raise ValueError("too many categories")
            kinds.append(1)
            refs.append(len(cl))
            cl.append(np.ascontiguousarray(raw.codes, dtype=np.int8))
            known_all.append(True)
            cats_of[name] = raw.categories
        elif isinstance(raw, Truths):
            kinds.append(2)
            refs.append(len(tv))
            tv.append(np.ascontiguousarray(raw.values, dtype=np.bool_))
            if isinstance(raw.known, np.ndarray):
                tk.append(np.ascontiguousarray(raw.known, dtype=np.bool_))
                known_all.append(False)
            else:
                tk.append(np.zeros(1, dtype=np.bool_))
                known_all.append(bool(raw.known))
                if not raw.known:
                    raise ValueError("a constant unknown")
        else:  # pragma: no cover - Value has no other kind
            raise ValueError("unknown value")
        b = bounds.get(name)
        if b is not None and not isinstance(raw, Truths):
            rows, lo, hi = (np.asarray(x) for x in b)
            order = None if len(rows) < 2 or bool(np.all(rows[1:] > rows[:-1])) else np.argsort(rows, kind="stable")
            if order is not None:
                rows, lo, hi = rows[order], lo[order], hi[order]
            b_rows.append(np.ascontiguousarray(rows, dtype=np.int64))
            b_lo.append(np.ascontiguousarray(lo, dtype=np.float64))
            b_hi.append(np.ascontiguousarray(hi, dtype=np.float64))
        else:
            b_rows.append(no_rows)
            b_lo.append(no_vals)
            b_hi.append(no_vals)
        mrows = maybe.get(name)
        if mrows is not None and isinstance(raw, Truths):
            m_rows.append(np.ascontiguousarray(np.sort(np.asarray(mrows)), dtype=np.int64))
        else:
            m_rows.append(no_rows)
        slot[name] = len(kinds) - 1
        return slot[name]

    prog: list[list[int]] = []
    lits: list[tuple[float, float]] = []
    pts: list[float] = []
    r_start, r_end = [], []
    try:
        for k in live:
            r_start.append(len(prog))
            for leaf in prog_rules.leaves[k]:
                row = [leaf.code, 0, 0, leaf.op, 0, 0]
                la = lb = 0.0
                if leaf.code == _CMP:
                    cats = None
                    for side in (leaf.a, leaf.b):
                        if isinstance(side, Name) and isinstance(values[side.dotted], Codes):
                            cats = values[side.dotted].categories  # type: ignore[union-attr]
                    sides = []
                    for side in (leaf.a, leaf.b):
                        if isinstance(side, Name):
                            sides.append((place(side.dotted), 0.0))
                        else:
                            sides.append((_LIT, _literal_point(side, cats)))  # type: ignore[arg-type]
                    (row[1], la), (row[2], lb) = sides
                elif leaf.code == _IN:
                    name = leaf.a.dotted  # type: ignore[union-attr]
                    row[1] = place(name)
                    raw = values[name]
                    cats = raw.categories if isinstance(raw, Codes) else None
                    p = sorted({_literal_point(v, cats) for v in leaf.values})
                    row[2] = 1 if cats is not None else 0
                    row[3] = int(leaf.negated)
                    row[4], row[5] = len(pts), len(p)
                    pts.extend(p)
                elif leaf.code in (_MISS, _NAME):
                    row[1] = place(leaf.a.dotted)  # type: ignore[union-attr]
                    row[3] = int(leaf.negated)
                elif leaf.code in (_AND, _OR):
                    row[1] = leaf.count
                prog.append(row)
                lits.append((la, lb))
            r_end.append(len(prog))
    except ValueError:
        return None

    # which names need lower/upper arrays per block (an `in` list, a true/false name, two names compared)
    need_dense = np.array([k == 2 for k in kinds], dtype=np.bool_)
    for row in prog:
        if row[0] == _IN or row[0] == _NAME or (row[0] == _CMP and row[1] >= 0 and row[2] >= 0):
            for j in (row[1], row[2]) if row[0] == _CMP else (row[1],):
                if j >= 0:
                    need_dense[j] = True

    # the sources, in the order assign_tiers lists them (bits of the fired and the later pattern)
    def bit(store: list[tuple[str, Any]], sid: str, reason: Any) -> int:
        store.append((sid, reason))
        return len(store) - 1

    crit_scales = [sid for sid in screened if sid in critical and screened[sid].spec.critical]
    (c_masks,) = _lists(_BOOL)
    c_bits = np.full((len(crit_scales), 7), -1, dtype=np.int64)
    c_proj = np.zeros(len(crit_scales), dtype=np.int64)
    c_ptier = np.zeros(len(crit_scales), dtype=np.int64)
    c_days = np.full(len(crit_scales), np.nan)
    c_anyp = np.zeros(len(crit_scales), dtype=np.bool_)  # project-choice item fired for someone
    c_anyb = np.zeros((len(crit_scales), 2), dtype=np.bool_)  # manual / project-choice item blank for someone
    for c, sid in enumerate(crit_scales):
        cm = critical[sid]
        if not isinstance(cm, CriticalMasks):
            none = np.zeros(n, dtype=bool)
            cm = CriticalMasks(np.asarray(cm, dtype=bool), none, none, none)
        for arr in (cm.manual_fired, cm.manual_blank, cm.project_fired, cm.project_blank):
            c_masks.append(np.ascontiguousarray(arr, dtype=np.bool_))
        scale = screened[sid]
        c_anyp[c] = bool(cm.project_fired.any())
        c_anyb[c] = bool(cm.manual_blank.any()), bool(cm.project_blank.any())
        c_bits[c, 0] = bit(fired, f"{sid}.critical", scale_reason(scale, crit.reason))
        pol = crit.project
        if not c_anyp[c]:  # fires for nobody: no bit (the fewer bits, the cheaper the numbering)
            if pol is not None:
                c_proj[c] = 1
                c_ptier[c] = tier_pos[pol.tier]
        elif pol is None:
            c_bits[c, 1] = bit(fired, f"{sid}.critical", scale_reason(scale, crit.reason))
        else:
            c_proj[c] = 1
            c_ptier[c] = tier_pos[pol.tier]
            c_days[c] = float(pol.interview_days)
            src = (f"{sid}.critical_project", scale_reason(scale, pol.reason))
            c_bits[c, 1] = bit(fired, *src)
            c_bits[c, 2] = bit(later, *src)
    read = set(screened) if read_scales is None else set(read_scales)
    (status_list,) = _lists(_I8)
    status_pos: dict[str, int] = {}
    dq: list[tuple[int, int, int, int, list[int], tuple[str, Any], bool]] = []
    for which in ("insufficient", "invalid"):
        code = C.STATUS_VALUES.index(which)
        pol_dq = getattr(spec.data_quality, which)
        for sid in screened:
            if pol_dq.scales == "read" and sid not in read:
                continue
            if sid not in status_pos:
                status_pos[sid] = len(status_list)
                status_list.append(np.ascontiguousarray(statuses[sid], dtype=np.int8))
            src = (f"{sid}.{which}", scale_reason(screened[sid], pol_dq.reason))
            tier_lvl = tier_pos[pol_dq.tier] if pol_dq.tier is not None else -1
            bits = [-1, -1, -1]
            if pol_dq.rescreen and pol_dq.rescreen_if == "could_change":
                mode = 2
                if pol_dq.tier is not None:
                    bits[0] = bit(fired, *src)
            else:
                mode = 1 if pol_dq.rescreen else 0
                bits[0] = bit(fired, *src)
                if pol_dq.rescreen:
                    bits[1] = bit(later, *src)
            dq.append((status_pos[sid], code, tier_lvl, mode, bits, src, pol_dq.tier is None))
    r_tier = np.array([-1 if (t := spec.rules[k].tier) is None else tier_pos[t] for k in live], dtype=np.int64)
    r_esc = np.array([spec.rules[k].escalate or 0 for k in live], dtype=np.int64)
    r_urgent = np.array([spec.rules[k].urgent for k in live], dtype=np.bool_)
    r_tbit = np.array([bit(fired, spec.rules[k].id, spec.rules[k].reason) for k in live], dtype=np.int64)
    for c, sid in enumerate(crit_scales):
        proj_reason = crit.project.reason if crit.project is not None else crit.unanswered_reason
        for half, why in enumerate((crit.unanswered_reason, proj_reason)):
            if c_anyb[c, half]:
                c_bits[c, 3 + 2 * half] = bit(fired, f"{sid}.critical_unanswered", scale_reason(screened[sid], why))
                c_bits[c, 4 + 2 * half] = bit(later, f"{sid}.critical_unanswered", scale_reason(screened[sid], why))
    r_pbit = np.full(len(live), -1, dtype=np.int64)
    r_lbit = np.full(len(live), -1, dtype=np.int64)
    uncertain = {name for name, j in slot.items() if j >= 0 and (len(b_rows[j]) or len(m_rows[j]))}
    r_maybe = np.array([any(sym.name in uncertain for sym in rules.conditions[k].symbols) for k in live], dtype=np.bool_)
    for j, k in enumerate(live):
        if not r_maybe[j]:  # no blank item touches what it reads: never only possibly true
            continue
        rule = spec.rules[k]
        src = (f"{rule.id}?", possible_text(rule.reason))
        r_pbit[j] = bit(fired, *src)
        r_lbit[j] = bit(later, *src)
    d_bits = np.full((len(dq), 3), -1, dtype=np.int64)
    for d, entry in enumerate(dq):
        d_bits[d, 0], d_bits[d, 1] = entry[4][0], entry[4][1]
    for d, (_, _, _, mode, _, src, own) in enumerate(dq):
        if mode == 2:
            if own:
                d_bits[d, 2] = bit(fired, *src)
            d_bits[d, 1] = bit(later, *src)
    top = len(tiers) - 1
    table = rules.action_table
    args = (
        n, np.array(kinds, dtype=np.int64), np.array(refs, dtype=np.int64), np.array(known_all, dtype=np.bool_), need_dense,
        fl, cl, tv, tk, b_rows, b_lo, b_hi, m_rows,
        np.array(prog, dtype=np.int64).reshape(-1, 6), np.array(lits, dtype=np.float64).reshape(-1, 2),
        np.array(pts, dtype=np.float64), prog_rules.depth,
        np.array(r_start, dtype=np.int64), np.array(r_end, dtype=np.int64), r_tier, r_esc, r_urgent, r_tbit, r_pbit, r_lbit,
        c_masks, np.full(len(crit_scales), tier_pos[crit.tier], dtype=np.int64), np.full(len(crit_scales), crit.urgent, dtype=np.bool_),
        c_proj, c_ptier, c_days, c_bits, c_anyp, c_anyb, r_maybe,
        status_list, np.array([d[0] for d in dq], dtype=np.int64), np.array([d[1] for d in dq], dtype=np.int64),
        np.array([d[2] for d in dq], dtype=np.int64), np.array([d[3] for d in dq], dtype=np.int64), d_bits,
        top, np.ascontiguousarray(table.follow_up_days, dtype=np.float64),
        len(fired) if len(fired) <= _LUT_BITS else 0, len(later) if len(later) <= _LUT_BITS else 0,
    )
    out: dict[str, Any] = {
        "tier": np.empty(n, dtype=np.int8), "urgent": np.empty(n, dtype=bool), "rescreen": np.empty(n, dtype=bool),
        "ask_today": np.empty(n, dtype=bool), "outcome": np.empty(n, dtype=np.int16), "follow_up": np.empty(n, dtype=np.float64),
    }
    for dtype, limit in ((np.int8, 126), (np.int16, 32766)):  # as many patterns as the int8 / int16 codes of the column-wise path
        codes_f = np.empty(n, dtype=dtype)
        codes_l = np.empty(n, dtype=dtype)
        uniq_f = np.zeros((limit + 1, (len(fired) + 63) // 64 or 1), dtype=np.uint64)
        uniq_l = np.zeros((limit + 1, (len(later) + 63) // 64 or 1), dtype=np.uint64)
        kf, kl = kernel(*args, out["tier"], out["urgent"], out["rescreen"], out["ask_today"], out["outcome"],
                        out["follow_up"], codes_f, codes_l, uniq_f, uniq_l, limit)
        if kf >= 0:
            break
    else:
        return None
    out["codes_fired"], out["codes_later"] = _narrow(codes_f, kf), _narrow(codes_l, kl)
    out["patterns_fired"] = [_pattern(row) for row in uniq_f[:kf]]
    out["patterns_later"] = [_pattern(row) for row in uniq_l[:kl]]
    out["sources_fired"], out["sources_later"] = fired, later
    return out


def _narrow(codes: npt.NDArray[Any], k: int) -> npt.NDArray[Any]:
    """int8 codes when there are fewer than 128 patterns (as the column-wise path stores them)."""
    return codes.astype(np.int8) if codes.dtype != np.int8 and k < 128 else codes


def _pattern(words: npt.NDArray[np.uint64]) -> tuple[int, ...]:
    """The source positions of one pattern (bit ``b`` of word ``w`` is source ``64 w + b``)."""
    return tuple(64 * k + b for k, w in enumerate(words.tolist()) for b in _bits(w))


@functools.lru_cache(maxsize=4096)
def _bits(w: int) -> tuple[int, ...]:
    return tuple(b for b in range(64) if w >> b & 1)
