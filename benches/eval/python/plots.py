"""Matplotlib figures of the harness: one PNG per NAB series and a summary chart."""
from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _shade(ax, series, probation=True):
    for rows in series.windows:
        ax.axvspan(rows[0], rows[-1], color="tab:red", alpha=0.15, lw=0)
    if probation and series.probation:
        ax.axvspan(0, series.probation, color="0.5", alpha=0.12, lw=0)


def nab_series(path, name, values, series, scores: dict, thresholds: dict):
    """The series with its label windows (red) and probation (grey), then each detector's score
    with its NAB standard threshold (dashed) and its alarms (dots: scored rows at or above it)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dets = list(scores)
    fig, axes = plt.subplots(1 + len(dets), 1, figsize=(12, 1.6 * (1 + len(dets)) + 0.6), sharex=True)
    x = np.arange(len(values))
    ax = axes[0]
    ax.plot(x, values, lw=0.6, color="k")
    _shade(ax, series)
    ax.set_ylabel("value", fontsize=8)
    ax.set_title(f"{name}  (red: label windows, grey: probation)", fontsize=9)
    ev = x >= series.probation
    for ax, d in zip(axes[1:], dets):
        s = scores[d]
        ax.plot(x, s, lw=0.6, color="tab:blue")
        _shade(ax, series, probation=False)
        thr = thresholds.get(d)
        if thr is not None and np.isfinite(thr):
            ax.axhline(thr, color="tab:orange", ls="--", lw=0.8)
            alarm = ev & (s >= thr)
            ax.plot(x[alarm], s[alarm], "o", ms=2.5, color="tab:red")
            label = f"{d}  (threshold {thr:.3g}, {int(alarm.sum())} alarms)"
        else:
            label = f"{d}  (never fires at its NAB threshold)"
        ax.set_ylabel("score", fontsize=8)
        ax.text(0.005, 0.92, label, transform=ax.transAxes, fontsize=8, va="top")
    axes[-1].set_xlabel("row", fontsize=8)
    for ax in axes:
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def summary(path, nab_res, adb_res, nab_target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    panels = [p for p in (nab_res, adb_res) if p]
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(7 * max(1, len(panels)), 5))
    axes = np.atleast_1d(axes)
    k = 0
    if nab_res:
        ax = axes[k]
        k += 1
        dets = nab_res["detectors"]
        profs = list(next(iter(nab_res["scores"].values())).keys())
        w = 0.8 / len(profs)
        for j, p in enumerate(profs):
            vals = [nab_res["scores"][d][p]["normalized"] for d in dets]
            bars = ax.bar(np.arange(len(dets)) + j * w, vals, w, label=p)
            for b, v in zip(bars, vals):
                ax.text(b.get_x() + b.get_width() / 2, v, f"{v:.1f}", ha="center", va="bottom", fontsize=6)
        ax.axhline(nab_target, color="k", ls="--", lw=0.8, label=f"target {nab_target:g} (standard)")
        ax.set_xticks(np.arange(len(dets)) + 0.4 - w / 2)
        ax.set_xticklabels(dets, rotation=20, fontsize=8)
        ax.set_ylabel("NAB score (0 null, 100 perfect)")
        ax.set_title(f"NAB, {len(nab_res['series'])} series")
        ax.legend(fontsize=7)
    if adb_res:
        ax = axes[k]
        rows = adb_res["rows"]
        xi = np.array([r["iforest_roc"] for r in rows])
        xr = np.array([r["rcf_roc"] for r in rows])
        ax.scatter(xi, xr, s=14)
        for r in rows:
            if r["gap"] < -0.05:
                ax.annotate(r["set"], (r["iforest_roc"], r["rcf_roc"]), fontsize=6)
        lo = float(min(xi.min(), xr.min(), 0.4)) if len(rows) else 0.4
        ax.plot([lo, 1], [lo, 1], "k-", lw=0.7, label="rcf = IsolationForest")
        ax.plot([lo, 1], [lo - 0.05, 0.95], "r--", lw=0.7, label="0.05 below")
        m = adb_res["mean"]
        ax.set_title(f"ADBench ROC-AUC, mean rcf {m['rcf_roc']:.3f} vs IF {m['iforest_roc']:.3f}")
        ax.set_xlabel("IsolationForest ROC-AUC")
        ax.set_ylabel("rcf (tabular preset) ROC-AUC")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
