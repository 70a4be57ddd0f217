#!/usr/bin/env python3
"""Detection-quality harness: NAB (with an honest NAB scorer) and ADBench, one command.

    python benches/eval/python/harness.py --nab ../shared/data/NAB --adbench ../shared/data/adbench \
        --out /tmp/rcf-eval [--bin target/release/rcf-eval] [--nab-metrics ../shared/tools/nab_metrics.py]

NAB: every series under ``<nab>/data`` is scored by the ``rcf-eval`` binary (rcf presets, krcflib
defaults) and, when ``<nab>/results/randomCutForest`` exists, the published AWS RCF scores are read
too. Per series and detector it prints ROC-AUC, PR-AUC, windows caught, false alarms, first-alarm
delay and the NAB score contribution for the three profiles; then each detector's NAB score.
ADBench: every ``*.npz`` (arrays ``X``, ``y``) under ``--adbench`` is scored by rcf's ``tabular``
preset and by scikit-learn's IsolationForest (100 trees, 256 samples) over 5 seeds.
Target lines say by how much each target is met or missed. Labels are used only to score.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nab_score as ns  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, os.pardir, os.pardir, os.pardir))
PROFILE_ORDER = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"]
PUBLISHED = "aws_rcf_published"
NAB_TARGET = 75.0
ADB_MEAN_MARGIN = 0.01
ADB_WORST_GAP = 0.05
# The detector whose NAB score is held against the target: the time_series preset with its
# thresholding (rcf's thresholded detector) when built, else rcf's raw score.
HEADLINE_ORDER = ["rcf_trcf", "rcf_raw"]


def log(msg: str = "") -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------- metrics
def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney U with average ranks for ties (= sklearn's roc_auc_score)."""
    y = y.astype(bool)
    p, n = int(y.sum()), int((~y).sum())
    if p == 0 or n == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ss = s[order]
    bounds = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1], True])
    ranks_sorted = np.repeat((bounds[:-1] + bounds[1:] - 1) / 2.0 + 1.0, np.diff(bounds))
    ranks = np.empty(len(s))
    ranks[order] = ranks_sorted
    return float((ranks[y].sum() - p * (p + 1) / 2.0) / (p * n))


def pr_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Average precision (= sklearn's average_precision_score)."""
    y = y.astype(float)
    p = y.sum()
    if p == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    ss, ys = s[order], y[order]
    tp, fp = np.cumsum(ys), np.cumsum(1.0 - ys)
    last = np.flatnonzero(np.r_[ss[1:] != ss[:-1], True])
    tp, fp = tp[last], fp[last]
    return float(np.sum(np.diff(np.r_[0.0, tp / p]) * (tp / (tp + fp))))


def fmt(v, nd=3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def table(rows: List[List], header: List[str]) -> str:
    cells = [header] + [[fmt(c) if not isinstance(c, str) else c for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for k, r in enumerate(cells):
        out.append("  ".join(c.rjust(w) if k and i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def md_table(rows: List[List], header: List[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in r) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- binary
def find_binary(path: str | None) -> str:
    cands = [path] if path else [
        os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "release", "rcf-eval"),
        os.path.join(REPO, "target", "eval", "release", "rcf-eval"),
        os.path.join(REPO, "target", "release", "rcf-eval"),
    ]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise SystemExit(f"rcf-eval binary not found (tried {cands}); build it with "
                     "`cargo build --release -p rcf-eval` or pass --bin")


def run_bin(binary: str, *args: str) -> str:
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{binary} {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


# ---------------------------------------------------------------------------- NAB
def nab_series_list(nab: str) -> List[str]:
    files = sorted(glob.glob(os.path.join(nab, "data", "*", "*.csv")))
    return [os.path.relpath(f, os.path.join(nab, "data")).replace(os.sep, "/") for f in files]


def align_by_timestamp(data_ts: List[str], res_ts: List[str], res_scores: List[str], what: str) -> np.ndarray:
    """Scores of a result file in the data file's row order (a few NAB result files list rows in
    another order); a repeated timestamp is matched in file order."""
    if res_ts == data_ts:
        return np.array(res_scores, dtype=float)
    pool: Dict[str, List[float]] = {}
    for t, v in zip(res_ts, res_scores):
        pool.setdefault(t.strip(), []).append(float(v))
    out = np.empty(len(data_ts))
    for i, t in enumerate(data_ts):
        lst = pool.get(t.strip())
        if not lst:
            raise RuntimeError(f"{what}: no score for {t}")
        out[i] = lst.pop(0)
    return out


def run_nab(a, binary: str, presets: dict) -> dict:
    nab = a.nab
    windows = ns.load_windows(os.path.join(nab, "labels", "combined_windows.json"))
    prof_path = os.path.join(nab, "config", "profiles.json")
    profiles = ns.load_profiles(prof_path) if os.path.exists(prof_path) else dict(ns.PROFILES)
    profiles = {k: profiles[k] for k in PROFILE_ORDER if k in profiles}
    rels = [r for r in nab_series_list(nab) if r in windows]
    built = [d["name"] for d in presets["series_detectors"] if d["built"]]
    log(f"NAB: {len(rels)} series under {nab}; detectors from rcf-eval: {', '.join(built)}")
    if "rcf_trcf" not in built:
        log("NOTE: rcf_trcf (rcf's thresholded detector) is NOT in this build of rcf-eval: its column is left out.")
    pub_dir = os.path.join(nab, "results", "randomCutForest")
    has_pub = os.path.isdir(pub_dir)
    if not has_pub:
        log(f"NOTE: {pub_dir} not found: no published AWS RCF column.")
    detectors = ([PUBLISHED] if has_pub else []) + built

    score_dir = os.path.join(a.out, "nab_scores")
    series: Dict[str, ns.Series] = {}
    values: Dict[str, np.ndarray] = {}
    scores: Dict[str, Dict[str, np.ndarray]] = {d: {} for d in detectors}
    t0 = time.time()
    for rel in rels:
        data = ns.read_csv_columns(os.path.join(nab, "data", rel))
        ts = np.array([ns.parse_ts(t) for t in data["timestamp"]])
        values[rel] = np.array(data["value"], dtype=float)
        series[rel] = ns.Series.build(rel, ts, windows[rel])
        out_csv = os.path.join(score_dir, rel)
        os.makedirs(os.path.dirname(out_csv), exist_ok=True)
        run_bin(binary, "series", "--input", os.path.join(nab, "data", rel), "--output", out_csv,
                "--detectors", ",".join(built), "--seed", str(a.seed))
        cols = ns.read_csv_columns(out_csv)
        for d in built:
            scores[d][rel] = np.array(cols[d], dtype=float)
        if has_pub:
            cat, name = rel.split("/")
            p = os.path.join(pub_dir, cat, "randomCutForest_" + name)
            pc = ns.read_csv_columns(p)
            scores[PUBLISHED][rel] = align_by_timestamp(data["timestamp"], pc["timestamp"], pc["anomaly_score"], p)
    log(f"NAB: scored {len(rels)} series in {time.time() - t0:.1f}s")

    # the NAB score: one threshold per detector and profile, swept over the whole corpus
    corpus = {d: {p: ns.score_corpus([(series[r], scores[d][r]) for r in rels], p, profiles[p])
                  for p in profiles} for d in detectors}
    stored = None
    thr_path = os.path.join(nab, "config", "thresholds.json")
    if has_pub and os.path.exists(thr_path):
        with open(thr_path) as f:
            thr = json.load(f).get("randomCutForest")
        if thr:
            stored = {p: ns.score_corpus([(series[r], scores[PUBLISHED][r]) for r in rels], p, profiles[p],
                                         threshold=thr[p]["threshold"]) for p in profiles if p in thr}

    # per-series figures (alarms at each detector's standard-profile threshold)
    per_series = []
    for d in detectors:
        std = corpus[d]["standard"]
        for r in rels:
            s = series[r]
            y = s.in_window >= 0
            ev = np.arange(s.n) >= s.probation
            fr = std.files[r]
            per_series.append({
                "detector": d, "series": r, "roc_auc": roc_auc(y[ev], scores[d][r][ev]),
                "pr_auc": pr_auc(y[ev], scores[d][r][ev]), "windows": fr.windows, "caught": fr.caught,
                "false_alarms": fr.false_alarms,
                "first_delay": float(np.mean(fr.first_delay)) if fr.first_delay else float("nan"),
                **{f"nab_{p}": corpus[d][p].contribution(r) for p in profiles},
            })

    cross = None
    if a.nab_metrics:
        spec = importlib.util.spec_from_file_location("nab_metrics", a.nab_metrics)
        nm = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(nm)
        worst = 0.0
        for row in per_series:
            r = row["series"]
            ts, _ = nm.load_nab_series(nab, r)
            res = nm.evaluate(ts, scores[row["detector"]][r], nm.load_windows(nab, r))
            for k in ("roc_auc", "pr_auc"):
                if not (math.isnan(res[k]) and math.isnan(row[k])):
                    worst = max(worst, abs(res[k] - row[k]))
        cross = worst

    # ------------------------------------------------------------------ print
    log("\n== NAB per series (alarms at each detector's NAB-swept standard threshold; "
        "delay = first alarm's position in the window, 0 = window start; nab_* = the series' share of the "
        "normalised NAB score) ==")
    hdr = ["series", "roc_auc", "pr_auc", "caught", "false_al", "delay"] + [f"nab_{p[:13]}" for p in profiles]
    for d in detectors:
        log(f"\n-- {d} --")
        rows = [[row["series"], row["roc_auc"], row["pr_auc"], f"{row['caught']}/{row['windows']}", row["false_alarms"],
                 row["first_delay"]] + [row[f"nab_{p}"] for p in profiles] for row in per_series if row["detector"] == d]
        log(table(rows, hdr))

    summary_rows = []
    for d in detectors:
        rs = [row for row in per_series if row["detector"] == d]
        summary_rows.append([d] + [corpus[d][p].normalized for p in profiles] + [
            float(np.nanmean([r["roc_auc"] for r in rs])), float(np.nanmean([r["pr_auc"] for r in rs])),
            f"{sum(r['caught'] for r in rs)}/{sum(r['windows'] for r in rs)}", sum(r["false_alarms"] for r in rs),
            corpus[d]["standard"].threshold])
    sum_hdr = ["detector"] + [f"NAB {p}" for p in profiles] + ["mean ROC-AUC", "mean PR-AUC", "caught", "false alarms",
                                                               "std threshold"]
    log(f"\n== NAB scores on these {len(rels)} series ({sum(s.scored_windows for s in series.values())} windows; "
        "threshold swept per detector and profile; 0 = null detector, 100 = perfect) ==")
    log(table(summary_rows, sum_hdr))
    if stored:
        log("\nPublished AWS RCF at NAB's stored thresholds (config/thresholds.json, optimised on all 58 series): "
            + ", ".join(f"{p} {stored[p].normalized:.2f}" for p in stored))
    if cross is not None:
        log(f"Cross-check with {a.nab_metrics}: max |delta| of per-series ROC-AUC/PR-AUC = {cross:.2e}")

    targets = []
    headline = next((d for d in HEADLINE_ORDER if d in detectors), None)
    base = corpus[PUBLISHED]["standard"].normalized if has_pub else float("nan")
    for d in [x for x in HEADLINE_ORDER if x in detectors]:
        v = corpus[d]["standard"].normalized
        ok = v >= NAB_TARGET
        tag = "HEADLINE " if d == headline else ""
        line = (f"TARGET {tag}NAB standard >= {NAB_TARGET:g} ({d}): {v:.2f} -> "
                + (f"MET by {v - NAB_TARGET:.2f}" if ok else f"MISSED by {NAB_TARGET - v:.2f}")
                + (f"   [published AWS RCF, same series and scorer: {base:.2f}]" if has_pub else ""))
        targets.append({"target": "nab_standard", "detector": d, "value": v, "goal": NAB_TARGET, "met": ok,
                        "headline": d == headline})
        log(line)

    if not a.no_plots:
        import plots
        plot_dir = os.path.join(a.out, "plots", "nab")
        for r in rels:
            plots.nab_series(os.path.join(plot_dir, r.replace("/", "__").replace(".csv", ".png")), r, values[r],
                             series[r], {d: scores[d][r] for d in detectors},
                             {d: corpus[d]["standard"].threshold for d in detectors})
        log(f"NAB plots: {plot_dir}")
    return {"detectors": detectors, "series": rels, "per_series": per_series,
            "scores": {d: {p: {"normalized": corpus[d][p].normalized, "raw": corpus[d][p].raw,
                               "threshold": corpus[d][p].threshold} for p in profiles} for d in detectors},
            "published_at_stored_thresholds": {p: stored[p].normalized for p in stored} if stored else None,
            "nab_metrics_cross_check": cross, "targets": targets, "summary_rows": summary_rows,
            "summary_header": sum_hdr, "headline": headline}


# ---------------------------------------------------------------------------- ADBench
def adbench_sets(d: str) -> List[str]:
    def key(p):
        b = os.path.basename(p)
        head = b.split("_")[0]
        return (int(head) if head.isdigit() else 10 ** 9, b)
    return sorted(glob.glob(os.path.join(d, "*.npz")), key=key)


def run_adbench(a, binary: str) -> dict:
    from sklearn.ensemble import IsolationForest

    sets = adbench_sets(a.adbench)
    seeds = list(range(a.seeds))
    log(f"\nADBench: {len(sets)} sets under {a.adbench}; seeds {seeds}; rcf tabular preset vs "
        f"IsolationForest(n_estimators=100, max_samples=min(256, n))")
    rows, t0 = [], time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for path in sets:
            name = os.path.splitext(os.path.basename(path))[0]
            d = np.load(path)
            X, y = np.asarray(d["X"], dtype=np.float64), np.asarray(d["y"]).astype(int).ravel()
            n = len(y)
            sub = None
            if a.adbench_max_rows and n > a.adbench_max_rows:
                sub = np.random.default_rng(12345).choice(n, a.adbench_max_rows, replace=False)
                sub.sort()
                X, y = X[sub], y[sub]
            xp = os.path.join(tmp, "x.npy")
            np.save(xp, np.ascontiguousarray(X, dtype=np.float32))
            res = {"rcf": {"roc": [], "pr": []}, "iforest": {"roc": [], "pr": []}}
            ts = time.time()
            for s in seeds:
                sp = os.path.join(tmp, "s.npy")
                run_bin(binary, "matrix", "--input", xp, "--output", sp, "--seed", str(s), "--threads", str(a.threads))
                sr = np.load(sp)
                res["rcf"]["roc"].append(roc_auc(y, sr))
                res["rcf"]["pr"].append(pr_auc(y, sr))
                f = IsolationForest(n_estimators=100, max_samples=min(256, len(y)), random_state=s).fit(X)
                si = -f.score_samples(X)
                res["iforest"]["roc"].append(roc_auc(y, si))
                res["iforest"]["pr"].append(pr_auc(y, si))
            row = {"set": name, "n": int(len(y)), "n_total": int(n), "subsampled": sub is not None, "d": int(X.shape[1]),
                   "rate": float(y.mean()), "seconds": time.time() - ts}
            for m in ("rcf", "iforest"):
                for k in ("roc", "pr"):
                    row[f"{m}_{k}"] = float(np.mean(res[m][k]))
                    row[f"{m}_{k}_sd"] = float(np.std(res[m][k], ddof=1)) if len(seeds) > 1 else 0.0
            row["gap"] = row["rcf_roc"] - row["iforest_roc"]
            rows.append(row)
            log(f"  {name:24s} n={n:7d} d={X.shape[1]:5d}  rcf {row['rcf_roc']:.3f}  iforest {row['iforest_roc']:.3f}"
                f"  ({row['seconds']:.1f}s){'  [subsampled]' if sub is not None else ''}")
    log(f"ADBench: {time.time() - t0:.1f}s")
    pm = lambda m, s: f"{m:.3f}±{s:.3f}"  # noqa: E731
    trows = [[r["set"] + ("*" if r["subsampled"] else ""), r["n"], r["d"], r["rate"], pm(r["rcf_roc"], r["rcf_roc_sd"]),
              pm(r["iforest_roc"], r["iforest_roc_sd"]), f"{r['gap']:+.3f}", pm(r["rcf_pr"], r["rcf_pr_sd"]),
              pm(r["iforest_pr"], r["iforest_pr_sd"])] for r in rows]
    hdr = ["set", "n", "d", "anomaly rate", "rcf ROC-AUC", "IF ROC-AUC", "rcf-IF", "rcf PR-AUC", "IF PR-AUC"]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("rcf_roc", "iforest_roc", "rcf_pr", "iforest_pr")}
    trows.append([f"MEAN ({len(rows)} sets)", "", "", "", f"{mean['rcf_roc']:.3f}", f"{mean['iforest_roc']:.3f}",
                  f"{mean['rcf_roc'] - mean['iforest_roc']:+.3f}", f"{mean['rcf_pr']:.3f}", f"{mean['iforest_pr']:.3f}"])
    log(f"\n== ADBench: ROC-AUC and PR-AUC, mean±sd over {len(seeds)} seeds "
        "(* = subsampled, see --adbench-max-rows) ==")
    log(table(trows, hdr))
    targets = []
    diff = mean["rcf_roc"] - mean["iforest_roc"]
    goal = ADB_MEAN_MARGIN
    ok = diff >= goal
    log(f"TARGET ADBench mean ROC-AUC >= IsolationForest + {goal:.2f}: rcf {mean['rcf_roc']:.4f} vs IF "
        f"{mean['iforest_roc']:.4f} (diff {diff:+.4f}) -> " + (f"MET by {diff - goal:.4f}" if ok else
                                                              f"MISSED by {goal - diff:.4f}"))
    targets.append({"target": "adbench_mean", "value": diff, "goal": goal, "met": ok})
    worst = min(rows, key=lambda r: r["gap"]) if rows else None
    bad = [r for r in rows if r["gap"] < -ADB_WORST_GAP]
    if worst:
        ok = not bad
        log(f"TARGET ADBench no set more than {ADB_WORST_GAP:.2f} below IsolationForest: worst {worst['set']} "
            f"{worst['gap']:+.4f} -> " + ("MET" if ok else f"MISSED on {len(bad)} set(s): " + ", ".join(
                f"{r['set']} by {-r['gap'] - ADB_WORST_GAP:.4f}" for r in sorted(bad, key=lambda r: r["gap"]))))
        targets.append({"target": "adbench_worst_gap", "worst_set": worst["set"], "value": worst["gap"],
                        "goal": -ADB_WORST_GAP, "met": ok, "failing": [r["set"] for r in bad]})
    return {"rows": rows, "mean": mean, "targets": targets, "table_rows": trows, "table_header": hdr}


# ---------------------------------------------------------------------------- main
def write_report(a, presets, nab_res, adb_res, path):
    lines = ["# rcf-eval report", "", f"Command: `{' '.join(sys.argv)}`", ""]
    lines += ["## Presets", "", "```json", json.dumps(presets, indent=1), "```", ""]
    if nab_res:
        lines += [f"## NAB ({len(nab_res['series'])} series)", "", md_table(nab_res["summary_rows"],
                                                                             nab_res["summary_header"]), ""]
        if nab_res["published_at_stored_thresholds"]:
            lines += ["Published AWS RCF at NAB's stored thresholds: " + ", ".join(
                f"{p} {v:.2f}" for p, v in nab_res["published_at_stored_thresholds"].items()), ""]
        for t in nab_res["targets"]:
            verdict = "met" if t["met"] else f"missed by {t['goal'] - t['value']:.2f}"
            lines.append(f"- target NAB standard ≥ {t['goal']:g} ({t['detector']}"
                         f"{', headline' if t['headline'] else ''}): {t['value']:.2f} → {verdict}")
        lines += ["", "### Per series", ""]
        profiles = [k[4:] for k in nab_res["per_series"][0] if k.startswith("nab_")] if nab_res["per_series"] else []
        hdr = ["detector", "series", "ROC-AUC", "PR-AUC", "caught", "false alarms", "delay"] + [f"NAB {p}" for p in profiles]
        rows = [[r["detector"], r["series"], r["roc_auc"], r["pr_auc"], f"{r['caught']}/{r['windows']}", r["false_alarms"],
                 r["first_delay"]] + [r[f"nab_{p}"] for p in profiles] for r in nab_res["per_series"]]
        lines += [md_table(rows, hdr), ""]
    if adb_res:
        lines += ["## ADBench", "", md_table(adb_res["table_rows"], adb_res["table_header"]), ""]
        for t in adb_res["targets"]:
            lines.append(f"- target {t['target']}: {t['value']:+.4f} (goal {t['goal']:+.2f}) → "
                         f"{'met' if t['met'] else 'missed'}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nab", help="NAB root (data/, labels/, config/, optional results/randomCutForest)")
    ap.add_argument("--adbench", help="directory of ADBench .npz sets")
    ap.add_argument("--out", required=True, help="output directory (scores, tables, plots, summary.json)")
    ap.add_argument("--bin", help="rcf-eval binary (default: target dirs of this repository)")
    ap.add_argument("--nab-metrics", help="optional path to nab_metrics.py: cross-check ROC-AUC/PR-AUC with it")
    ap.add_argument("--seed", type=int, default=0, help="seed of the streaming detectors on NAB")
    ap.add_argument("--seeds", type=int, default=5, help="ADBench seeds (0..N-1)")
    ap.add_argument("--threads", type=int, default=1, help="threads for rcf's batch scoring on ADBench")
    ap.add_argument("--adbench-max-rows", type=int, default=0, help="subsample larger ADBench sets (0 = never)")
    ap.add_argument("--no-plots", action="store_true")
    a = ap.parse_args(argv)
    if not a.nab and not a.adbench:
        ap.error("give --nab and/or --adbench")
    os.makedirs(a.out, exist_ok=True)
    binary = find_binary(a.bin)
    presets = json.loads(run_bin(binary, "presets"))
    log(f"rcf-eval: {binary}")
    nab_res = run_nab(a, binary, presets) if a.nab else None
    adb_res = run_adbench(a, binary) if a.adbench else None
    if not a.no_plots:
        import plots
        plots.summary(os.path.join(a.out, "plots", "summary.png"), nab_res, adb_res, NAB_TARGET)
        log(f"summary chart: {os.path.join(a.out, 'plots', 'summary.png')}")
    summary = {"presets": presets, "nab": nab_res and {k: v for k, v in nab_res.items() if k != "summary_rows"},
               "adbench": adb_res and {k: v for k, v in adb_res.items() if k != "table_rows"}}
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=lambda o: None if isinstance(o, float) and math.isnan(o) else str(o))
    write_report(a, presets, nab_res, adb_res, os.path.join(a.out, "report.md"))
    log(f"\nwrote {os.path.join(a.out, 'summary.json')} and {os.path.join(a.out, 'report.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
