# %% [markdown]
# # Research walkthrough: reliability, item analysis, local norms and cut-offs
#
# The same scale file that scores students drives the analysis. This
# walkthrough uses the `bfi` data of R's psych package (25 personality items
# from 2800 people of the SAPA project; Revelle, psych package) and a scale
# file for it, `examples/data/bfi.yaml`. Every reliability figure below agrees
# with `psych::alpha` / `psych::omega` (psych 2.2.9) to better than 1e-9.
#
# Run it as a script (`python examples/research_walkthrough.py`) or open
# `examples/research_walkthrough.ipynb`, which holds the same cells.

# %%
import tempfile
import warnings
from pathlib import Path

import pandas as pd

import screening as sc
import screening.research as rs

# works as a script (next to the data) and as a notebook opened in examples/
HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
DATA = HERE / "data"
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 20)
pd.set_option("display.precision", 3)

bfi = pd.read_csv(DATA / "bfi.csv")
scale = sc.load_scale(DATA / "bfi.yaml")
print(scale)
print(bfi.shape, "rows × columns;", int(bfi.filter(regex=r"^[ACENO]\d$").isna().sum().sum()), "missing answers")

# %% [markdown]
# ## 1. Reliability of the five scales
#
# The bfi columns are named `A1` … `O5`, not `bfi_A1` …, so `prefix=""`
# tells the tools where the items are. Reverse keys (A1, C4, C5, E1, E2, O2,
# O5) come from the scale file. Missing answers are handled pairwise, as in
# psych; `nan_policy="listwise"` uses complete rows only.

# %%
rel = {s: rs.reliability(bfi, scale, s, prefix="") for s in scale.score_ids}
summary = pd.concat([r.summary for r in rel.values()])
print(summary[["n_obs", "alpha", "alpha_ci_low", "alpha_ci_high", "alpha_std", "lambda6", "omega_total", "average_r"]])

# %%
# one scale in detail: item–rest correlations and alpha if an item is deleted
print(rel["openness"])

# %% [markdown]
# The R equivalent of the openness row is
# `psych::alpha(bfi[, c("O1","O2","O3","O4","O5")], keys = c(1,-1,1,1,-1))`
# and `psych::omega(..., key = c(1,-1,1,1,-1), nfactors = 3)$omega.tot`.

# %% [markdown]
# ## 2. Item analysis and the reverse-key check
#
# Means, SDs, floor and ceiling shares and missing rates per item, and a check
# that every item correlates positively with the rest of its scale *after*
# keying. A reverse key left out of a YAML file shows up at once: here we drop
# A1 from `reverse` on purpose.

# %%
items = rs.item_analysis(bfi, scale, prefix="")
print(items[["key", "missing_rate", "mean", "sd", "floor", "ceiling", "r_rest", "key_check"]].head(10))

# %%
from screening.loading import read_yaml  # noqa: E402 - shown here for the walkthrough

doc, _ = read_yaml(DATA / "bfi.yaml")
doc["reverse"] = [r for r in doc["reverse"] if r != "A1"]  # the deliberate mistake
doc["examples"] = [dict(doc["examples"][0], expected={"neuroticism": 5})]  # its A-score example no longer holds
miskeyed = sc.load_scale(doc)
check = rs.item_analysis(bfi, miskeyed, "agreeableness", prefix="")
print(check[["key", "r_rest", "key_check", "hint"]])

# %% [markdown]
# ## 3. Local norms, written back into the scale file
#
# Norms by gender (1 = male, 2 = female in bfi) and by age band, from this
# sample. The table holds, for every raw score, the mid-point percentile rank
# and the *normalised* T-score `50 + 10·Φ⁻¹(PR/100)`; `t_score="linear"`
# would store `50 + 10·(x − mean)/SD` instead, and `method="linear"` stores
# only the mean and SD. Groups smaller than `min_group_n` (default 100) get a
# `SmallNormGroupWarning`.

# %%
bfi["age_band"] = pd.cut(bfi["age"], [0, 19, 29, 200], labels=["under_20", "20_29", "30_plus"]).astype(str)
norms = rs.build_norms(
    bfi, scale, "neuroticism", by=["gender", "age_band"], prefix="",
    population="SAPA web sample in psych::bfi (demonstration only)",
)
print(norms)
print(norms.table.head())

# %%
# A norm group that is too small is flagged (and warned about):
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    tiny = rs.build_norms(bfi[bfi["age"] < 16], scale, "neuroticism", by=["gender"], prefix="")
print(tiny.groups)
print([str(w.message) for w in caught])

# %%
# Round trip: a new scale file with the norms as its default set, loaded and used by score()
text = norms.to_scale_yaml(name="sapa_gender_age")
print(text[text.index("norms:"):][:600], "…")
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "bfi.yaml"  # a scale file is named after its id
    path.write_text(text, encoding="utf-8")
    normed = sc.load_scale(path)
    out = sc.score(bfi, normed, prefix="")
print(out[["bfi.neuroticism", "bfi.neuroticism.t", "bfi.neuroticism.pct"]].head())
# the same raw score of 20 is a different T in each norm group
at20 = pd.DataFrame({"raw": out["bfi.neuroticism"], "T": out["bfi.neuroticism.t"],
                     "gender": bfi["gender"], "age_band": bfi["age_band"]}).query("raw == 20")
print(at20.groupby(["gender", "age_band"])["T"].first())

# %% [markdown]
# ## 4. Validating a cut-off against a criterion
#
# bfi has no clinical diagnosis, so this part is a demonstration: a two-item
# short form (N1 + N2) is checked against a criterion built from the *other*
# three neuroticism items (N3 + N4 + N5 ≥ 14). With real data the criterion
# is a structured interview or a clinician's diagnosis. AUC intervals are
# DeLong's (as pROC); sensitivity and specificity intervals are Wilson score
# intervals; predictive values are recomputed for a population prevalence of 10%.

# %%
complete = bfi.dropna(subset=["N1", "N2", "N3", "N4", "N5"])
short_form = complete["N1"] + complete["N2"]
criterion = (complete["N3"] + complete["N4"] + complete["N5"]) >= 14
ev = rs.evaluate_cutoffs(short_form, criterion, prevalence=0.10)
print(ev)

# %%
cols = ["cutoff", "sensitivity", "sensitivity_low", "sensitivity_high", "specificity",
        "ppv_at_prevalence", "ppv_at_prevalence_low", "ppv_at_prevalence_high", "npv_at_prevalence"]
print(ev.table[cols].query("7 <= cutoff <= 11").to_string(index=False))
print(f"AUC {ev.auc:.3f} (95% CI {ev.auc_ci[0]:.3f}–{ev.auc_ci[1]:.3f}); Youden optimum ≥ {ev.youden['cutoff']:g}")
