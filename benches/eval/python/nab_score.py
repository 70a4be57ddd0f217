"""The NAB score, written from NAB's published definition (Lavin & Ahmad, "Evaluating Real-time
Anomaly Detection Algorithms - the Numenta Anomaly Benchmark", 2015, and NAB's scoring docs).

Pure numpy; nothing here reads files except the small JSON/CSV helpers at the bottom.

Definitions
-----------
probation      the first ``min(floor(0.15 n), 0.15 * 5000)`` rows of a series of ``n`` rows are a
               warm-up period: detections there are ignored.
window         a labelled anomaly window ``[t1, t2]`` (inclusive); its rows are the rows whose
               timestamp lies in it, ``lo`` the first, ``hi`` the last and ``L`` their number.
sigma(x)       the scaled sigmoid ``2 / (1 + exp(5 x)) - 1`` for ``x <= 3``, and ``-1`` beyond.
detection      a row with ``score >= threshold`` outside the probation period.
TP reward      a window scores only its *first* detection, at row ``i``:
               ``A_TP * sigma(-(hi - i + 1) / L) / sigma(-1)`` -- ``A_TP`` for a detection at the
               window's first row, falling towards 0 at its end.
FN penalty     a window with no detection scores ``-A_FN``.
FP penalty     every detection outside all windows scores ``A_FP * sigma((i - hi_p) / (L_p - 1))``
               where ``hi_p, L_p`` belong to the closest window ending before ``i`` (so a detection
               just after a window costs little, one far after costs ``-A_FP``), or ``-A_FP`` when
               no window precedes it.
raw score      the sum over the windows and detections of a file, and over files for a corpus.
threshold      one threshold for the whole corpus, chosen by sweeping every distinct score value
               (and "no detection at all") and keeping the one with the highest corpus raw score
               (ties: the highest threshold).
normalised     ``100 * (raw - null) / (perfect - null)`` where ``null = -A_FN * windows`` is the
               detector that never fires and ``perfect = A_TP * windows`` detects every window at
               its first row with no false positive.
per-row S(t)   NAB's result files carry a column ``S(t)_<profile>`` with each row's contribution at
               the profile's threshold: a window's TP reward or FN penalty on the window's first
               row, each false positive's penalty on its own row, 0 elsewhere; a file's score is
               the column's sum.  ``row_contributions`` computes exactly that column.

Profiles (``A_TP, A_FP, A_FN``): standard (1, 0.11, 1), reward_low_FP_rate (1, 0.22, 1),
reward_low_FN_rate (1, 0.11, 2) -- read from NAB's ``config/profiles.json`` or use ``PROFILES``.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Sequence, Tuple

import numpy as np

PROBATION_PERCENT = 0.15


@dataclass(frozen=True)
class Profile:
    """Application profile: weights of true positives, false positives and false negatives."""

    tp: float
    fp: float
    fn: float


PROFILES: Dict[str, Profile] = {
    "standard": Profile(tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": Profile(tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": Profile(tp=1.0, fp=0.11, fn=2.0),
}


def probation_length(n: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a series of ``n`` rows that are not scored."""
    return int(min(math.floor(percent * n), percent * 5000))


def scaled_sigmoid(x):
    """``2 / (1 + exp(5x)) - 1`` for ``x <= 3``, ``-1`` beyond; vectorised."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore"):
        val = 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0
    return np.where(x > 3.0, -1.0, val)


MAX_TP = float(scaled_sigmoid(-1.0))


def window_masks(timestamps: np.ndarray, windows: Sequence[Tuple]) -> List[np.ndarray]:
    """Row indices of each window: rows with ``t1 <= timestamp <= t2`` (robust to unsorted rows)."""
    ts = np.asarray(timestamps)
    return [np.flatnonzero((ts >= a) & (ts <= b)) for a, b in windows]


@dataclass
class Series:
    """One scored series prepared for NAB scoring (the parts that do not depend on the profile)."""

    name: str
    n: int
    probation: int
    windows: List[np.ndarray]  # row indices of each window (non-empty ones only)
    in_window: np.ndarray = field(repr=False)  # window id per row, -1 outside every window
    tp_pos: np.ndarray = field(repr=False)  # -(hi - i + 1) / L for rows in windows
    fp_pos: np.ndarray = field(repr=False)  # (i - hi_p) / (L_p - 1) outside windows; +inf if no window precedes

    @classmethod
    def build(cls, name: str, timestamps: np.ndarray, windows: Sequence[Tuple], probation: int | None = None):
        n = len(timestamps)
        idx = [w for w in window_masks(timestamps, windows) if len(w)]
        in_window = np.full(n, -1, dtype=np.int64)
        tp_pos = np.zeros(n)
        for k, rows in enumerate(idx):
            in_window[rows] = k
            hi, length = rows[-1], len(rows)
            tp_pos[rows] = -(hi - rows + 1) / float(length)
        fp_pos = np.full(n, np.inf)
        # closest window ending strictly before each row
        ends = sorted((rows[-1], len(rows)) for rows in idx)
        for hi, length in ends:  # later windows overwrite: the closest preceding one wins
            after = np.arange(hi + 1, n)
            with np.errstate(divide="ignore"):
                fp_pos[after] = (after - hi) / float(length - 1) if length > 1 else np.inf
        return cls(name, n, probation_length(n) if probation is None else probation, idx, in_window, tp_pos, fp_pos)

    def sweep_scores(self, p: Profile) -> np.ndarray:
        """What each row would contribute if it were the (first) detection: TP reward in windows,
        FP penalty outside."""
        out = np.where(self.in_window >= 0, p.tp * scaled_sigmoid(self.tp_pos) / MAX_TP, p.fp * scaled_sigmoid(self.fp_pos))
        return out

    @property
    def scored_windows(self) -> int:
        """Windows with at least one row after the probation period."""
        return sum(1 for rows in self.windows if rows[-1] >= self.probation)


@dataclass
class FileResult:
    score: float  # raw NAB score of the file at the threshold
    windows: int  # windows counted (with a row after probation)
    caught: int  # windows with a detection
    false_alarms: int  # detections outside every window
    first_delay: List[float]  # per caught window: (first detection - lo) / L
    contributions: np.ndarray  # per-row S(t)


def score_file(series: Series, scores: np.ndarray, threshold: float, p: Profile) -> FileResult:
    """NAB score of one file at ``threshold`` (a row is a detection if ``score >= threshold``)."""
    scores = np.asarray(scores, dtype=float)
    det = np.zeros(series.n, dtype=bool)
    det[series.probation:] = scores[series.probation:] >= threshold
    sweep = series.sweep_scores(p)
    contrib = np.zeros(series.n)
    fp = det & (series.in_window < 0)
    contrib[fp] = sweep[fp]
    caught, delays, counted = 0, [], 0
    for rows in series.windows:
        if rows[-1] < series.probation:
            continue  # entirely in probation: not scored
        counted += 1
        hits = rows[det[rows]]
        if len(hits):
            caught += 1
            contrib[rows[0]] += sweep[hits[0]]
            delays.append(float(np.searchsorted(rows, hits[0])) / len(rows))
        else:
            contrib[rows[0]] += -p.fn
    return FileResult(float(contrib.sum()), counted, caught, int(fp.sum()), delays, contrib)


def row_contributions(series: Series, scores: np.ndarray, threshold: float, p: Profile) -> np.ndarray:
    """NAB's per-row ``S(t)_<profile>`` column at ``threshold``."""
    return score_file(series, scores, threshold, p).contributions


def sweep_threshold(items: Sequence[Tuple[Series, np.ndarray]], p: Profile):
    """NAB's threshold sweep over a corpus. Returns ``(best_threshold, best_raw_score)``;
    ``best_threshold`` is ``inf`` when firing nowhere scores best."""
    s_all, v_all, w_all = [], [], []
    offset = 0
    for series, scores in items:
        scores = np.asarray(scores, dtype=float)
        keep = np.arange(series.n) >= series.probation
        s_all.append(scores[keep])
        v_all.append(series.sweep_scores(p)[keep])
        wid = series.in_window[keep]
        w_all.append(np.where(wid >= 0, wid + offset, -1))
        offset += len(series.windows)
    s = np.concatenate(s_all) if s_all else np.zeros(0)
    v = np.concatenate(v_all) if v_all else np.zeros(0)
    w = np.concatenate(w_all) if w_all else np.zeros(0, dtype=np.int64)
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    n_windows = len(np.unique(w[w >= 0]))
    base = -p.fn * n_windows
    order = np.argsort(-s, kind="stable")
    s, v, w = s[order], v[order], w[order]
    delta = np.where(w < 0, v, 0.0)
    # windows: the value is the best (= earliest) reward among its detections so far; add the
    # improvement each detection brings over the running best (starting from the FN penalty)
    inw = np.flatnonzero(w >= 0)
    if len(inw):
        ww = w[inw]
        o = np.lexsort((inw, ww))  # group by window, in sweep order
        grp, val = ww[o], v[inw][o]
        starts = np.r_[True, grp[1:] != grp[:-1]]
        run = val.copy()
        # running max within each group
        gid = np.cumsum(starts) - 1
        shift = np.zeros(len(run))
        # offset each group so a global maximum.accumulate does not leak across groups
        big = (np.abs(val).max() + p.fn + 1.0) * 4.0
        shift = gid * big
        run = np.maximum.accumulate(val + shift) - shift
        prev = np.where(starts, -p.fn, np.r_[-p.fn, run[:-1]])
        prev = np.maximum(prev, -p.fn)
        delta[inw[o]] = run - prev
    total = base + np.cumsum(delta)
    last_of_group = np.flatnonzero(np.r_[s[1:] != s[:-1], True]) if len(s) else np.zeros(0, dtype=int)
    cand_scores = np.r_[base, total[last_of_group]]
    cand_thr = np.r_[np.inf, s[last_of_group]]
    best = int(np.argmax(cand_scores))  # first maximum = highest threshold
    return float(cand_thr[best]), float(cand_scores[best])


@dataclass
class CorpusResult:
    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    normalized: float
    files: Dict[str, FileResult]

    def contribution(self, name: str) -> float:
        """A file's share of the normalised score (shares add up to ``normalized``)."""
        f = self.files[name]
        prof_null_file = -self._fn * f.windows
        return 100.0 * (f.score - prof_null_file) / (self.perfect - self.null)

    _fn: float = 1.0


def score_corpus(items: Sequence[Tuple[Series, np.ndarray]], profile: str, p: Profile | None = None,
                 threshold: float | None = None) -> CorpusResult:
    """Sweep the threshold (unless given) and score every file at it; normalise."""
    p = p or PROFILES[profile]
    if threshold is None:
        threshold, _ = sweep_threshold(items, p)
    files = {s.name: score_file(s, sc, threshold, p) for s, sc in items}
    raw = float(sum(f.score for f in files.values()))
    windows = sum(f.windows for f in files.values())
    null, perfect = -p.fn * windows, p.tp * windows
    norm = 100.0 * (raw - null) / (perfect - null) if perfect != null else float("nan")
    r = CorpusResult(profile, threshold, raw, null, perfect, norm, files)
    r._fn = p.fn
    return r


# ------------------------------------------------------------------ NAB file helpers
def parse_ts(s: str) -> np.datetime64:
    return np.datetime64(datetime.fromisoformat(s.strip().replace("T", " ")), "s")


def load_profiles(path: str) -> Dict[str, Profile]:
    with open(path) as f:
        d = json.load(f)
    return {k: Profile(tp=float(v["CostMatrix"]["tpWeight"]), fp=float(v["CostMatrix"]["fpWeight"]),
                       fn=float(v["CostMatrix"]["fnWeight"])) for k, v in d.items()}


def load_windows(path: str) -> Dict[str, List[Tuple[np.datetime64, np.datetime64]]]:
    with open(path) as f:
        d = json.load(f)
    return {k: [(parse_ts(a), parse_ts(b)) for a, b in v] for k, v in d.items()}


def read_csv_columns(path: str) -> Dict[str, list]:
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        cols: Dict[str, list] = {h: [] for h in header}
        for row in r:
            for h, v in zip(header, row):
                cols[h].append(v)
    return cols
