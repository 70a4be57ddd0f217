#!/usr/bin/env python3
"""Generates a small NAB-shaped and ADBench-shaped data set for the harness's CI smoke run.

    python gen_smoke.py OUT_DIR [--seed 7]

Writes ``OUT_DIR/NAB`` (data/<category>/<series>.csv, labels/combined_windows.json,
config/profiles.json, config/thresholds.json and results/randomCutForest/... holding a simple
z-score detector's scores as the "published" column) and ``OUT_DIR/adbench`` (two .npz sets with
arrays X and y). Everything is synthetic: sine waves with noise and injected spikes, level shifts
and a flat stretch; Gaussian blobs with scattered outliers.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
from datetime import datetime, timedelta

import numpy as np

PROFILES = {
    "standard": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0}},
    "reward_low_FP_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22, "tnWeight": 1.0}},
    "reward_low_FN_rate": {"CostMatrix": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0}},
}


def _series(rng, n, kind):
    t = np.arange(n)
    x = 10 + 3 * np.sin(2 * np.pi * t / 48) + rng.normal(0, 0.3, n)
    events = []
    if kind == "spikes":
        for at in (int(0.45 * n), int(0.8 * n)):
            x[at] += 12
            events.append(at)
    elif kind == "shift":
        at = int(0.6 * n)
        x[at:] += 6
        events.append(at)
    elif kind == "flat":
        at = int(0.5 * n)
        x[at: at + 60] = x[at]
        events.append(at)
    return x, events


def make_nab(root: str, rng, n: int = 1200):
    start = datetime(2020, 1, 1)
    ts = [(start + timedelta(minutes=5 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(n)]
    windows = {}
    width = max(2, int(0.1 * n / 2))  # NAB: 10% of the series' length shared among its windows
    for cat, name, kind in (("synthWithAnomaly", "spikes.csv", "spikes"), ("synthWithAnomaly", "shift.csv", "shift"),
                            ("synthWithAnomaly", "flat.csv", "flat"), ("synthNoAnomaly", "quiet.csv", "none")):
        x, events = _series(rng, n, kind)
        rel = f"{cat}/{name}"
        wins = []
        for at in events:
            lo, hi = max(0, at - width // 2), min(n - 1, at + width // 2)
            wins.append([ts[lo] + ".000000", ts[hi] + ".000000"])
        windows[rel] = wins
        os.makedirs(os.path.join(root, "data", cat), exist_ok=True)
        with open(os.path.join(root, "data", rel), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["timestamp", "value"])
            w.writerows([t, f"{v:.4f}"] for t, v in zip(ts, x))
        # a stand-in "published" detector: |z| of the first difference, squashed into [0, 1]
        d = np.abs(np.diff(x, prepend=x[0]))
        z = d / (np.std(d) + 1e-9)
        score = 1 - np.exp(-z / 4)
        os.makedirs(os.path.join(root, "results", "randomCutForest", cat), exist_ok=True)
        with open(os.path.join(root, "results", "randomCutForest", cat, "randomCutForest_" + name), "w",
                  newline="") as f:
            w = csv.writer(f)
            w.writerow(["timestamp", "value", "anomaly_score"])
            w.writerows([t, f"{v:.4f}", f"{s:.6f}"] for t, v, s in zip(ts, x, score))
    os.makedirs(os.path.join(root, "labels"), exist_ok=True)
    with open(os.path.join(root, "labels", "combined_windows.json"), "w") as f:
        json.dump(windows, f, indent=1)
    os.makedirs(os.path.join(root, "config"), exist_ok=True)
    with open(os.path.join(root, "config", "profiles.json"), "w") as f:
        json.dump(PROFILES, f, indent=1)
    with open(os.path.join(root, "config", "thresholds.json"), "w") as f:
        json.dump({"randomCutForest": {p: {"threshold": 0.5, "score": 0.0} for p in PROFILES}}, f, indent=1)


def make_adbench(root: str, rng):
    os.makedirs(root, exist_ok=True)
    for i, (name, n, d) in enumerate((("blobs", 400, 4), ("wide", 300, 12)), start=1):
        centers = rng.normal(0, 5, (3, d))
        X = np.concatenate([c + rng.normal(0, 1, (n // 3, d)) for c in centers])
        k = max(5, n // 25)
        out = rng.uniform(X.min(0) - 3, X.max(0) + 3, (k, d))
        X = np.concatenate([X, out])
        y = np.r_[np.zeros(len(X) - k, dtype=int), np.ones(k, dtype=int)]
        p = rng.permutation(len(y))
        np.savez(os.path.join(root, f"{i}_{name}.npz"), X=X[p], y=y[p])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--length", type=int, default=1200)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    make_nab(os.path.join(a.out, "NAB"), rng, a.length)
    make_adbench(os.path.join(a.out, "adbench"), rng)
    print(f"smoke data in {a.out}")


if __name__ == "__main__":
    main()
