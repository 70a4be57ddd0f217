"""Unit tests of the NAB scorer on small hand-made cases (no NAB data needed)."""
import math

import numpy as np
import pytest

import nab_score as ns

STD = ns.PROFILES["standard"]
LOW_FN = ns.PROFILES["reward_low_FN_rate"]


def ts(n, start="2020-01-01T00:00:00"):
    return np.datetime64(start, "s") + np.arange(n) * np.timedelta64(300, "s")


def one_window_series(n=100, lo=40, hi=49):
    t = ts(n)
    return ns.Series.build("s", t, [(t[lo], t[hi])]), t


def test_scaled_sigmoid_and_probation():
    assert ns.scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert ns.MAX_TP == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert ns.scaled_sigmoid(3.0) == pytest.approx(2 / (1 + math.exp(15)) - 1)
    assert ns.scaled_sigmoid(3.0001) == -1.0
    assert ns.probation_length(1000) == 150
    assert ns.probation_length(4032) == 604
    assert ns.probation_length(22695) == 750


def scores_at(n, rows, value=1.0):
    s = np.zeros(n)
    s[list(rows)] = value
    return s


def test_tp_reward_is_full_at_window_start_and_falls_inside():
    s, _ = one_window_series()
    assert s.probation == 15
    r = ns.score_file(s, scores_at(100, [40]), 0.5, STD)
    assert r.score == pytest.approx(1.0) and r.caught == 1 and r.first_delay == [0.0]
    r = ns.score_file(s, scores_at(100, [49]), 0.5, STD)
    assert r.score == pytest.approx(ns.scaled_sigmoid(-1 / 10) / ns.MAX_TP)
    assert 0 < r.score < 0.3


def test_only_first_detection_in_a_window_counts():
    s, _ = one_window_series()
    r = ns.score_file(s, scores_at(100, [42, 45, 47]), 0.5, STD)
    assert r.score == pytest.approx(ns.scaled_sigmoid(-8 / 10) / ns.MAX_TP)
    assert r.false_alarms == 0


def test_fn_penalty_per_profile():
    s, _ = one_window_series()
    assert ns.score_file(s, np.zeros(100), 0.5, STD).score == pytest.approx(-1.0)
    assert ns.score_file(s, np.zeros(100), 0.5, LOW_FN).score == pytest.approx(-2.0)


def test_false_positive_weights():
    s, _ = one_window_series()
    # before any window: the full -A_FP
    assert ns.score_file(s, scores_at(100, [20, 40]), 0.5, STD).score == pytest.approx(1.0 - 0.11)
    # just after the window: (50 - 49) / (10 - 1) into the sigmoid
    want = 1.0 + 0.11 * ns.scaled_sigmoid(1 / 9)
    assert ns.score_file(s, scores_at(100, [40, 50]), 0.5, STD).score == pytest.approx(want)
    # far after (> 3 window lengths): -A_FP; the low-FP profile doubles it
    assert ns.score_file(s, scores_at(100, [40, 90]), 0.5, STD).score == pytest.approx(1.0 - 0.11)
    assert ns.score_file(s, scores_at(100, [40, 90]), 0.5, ns.PROFILES["reward_low_FP_rate"]).score == \
        pytest.approx(1.0 - 0.22)


def test_probation_detections_are_ignored():
    s, _ = one_window_series()
    r = ns.score_file(s, scores_at(100, [3, 10, 40]), 0.5, STD)
    assert r.score == pytest.approx(1.0) and r.false_alarms == 0


def test_row_contributions_land_on_window_start_and_fp_rows():
    s, _ = one_window_series()
    c = ns.row_contributions(s, scores_at(100, [20, 44]), 0.5, STD)
    assert set(np.flatnonzero(c)) == {20, 40}
    assert c[20] == pytest.approx(-0.11)
    assert c[40] == pytest.approx(ns.scaled_sigmoid(-6 / 10) / ns.MAX_TP)
    assert c.sum() == pytest.approx(ns.score_file(s, scores_at(100, [20, 44]), 0.5, STD).score)


def test_threshold_is_inclusive():
    s, _ = one_window_series()
    assert ns.score_file(s, scores_at(100, [40], 0.7), 0.7, STD).caught == 1
    assert ns.score_file(s, scores_at(100, [40], 0.7), 0.7000001, STD).caught == 0


def test_unsorted_timestamps_use_window_membership():
    t = ts(60)
    t = np.r_[t[:30], t[25:55]]  # the clock jumps back: rows 30..34 repeat times of rows 25..29
    s = ns.Series.build("x", t, [(t[40], t[45])])
    assert list(s.windows[0]) == list(range(40, 46))


def test_windows_in_probation_are_not_counted():
    t = ts(200)
    s = ns.Series.build("p", t, [(t[2], t[8]), (t[100], t[109])])
    assert s.probation == 30 and s.scored_windows == 1
    r = ns.score_file(s, np.zeros(200), 0.5, STD)
    assert r.windows == 1 and r.score == pytest.approx(-1.0)


def brute_best(items, p):
    cands = sorted({float(v) for s, sc in items for v in sc[s.probation:]}, reverse=True)
    best_t, best = math.inf, sum(-p.fn * s.scored_windows for s, _ in items)
    for t in cands:
        v = sum(ns.score_file(s, sc, t, p).score for s, sc in items)
        if v > best + 1e-12:
            best_t, best = t, v
    return best_t, best


@pytest.mark.parametrize("seed", range(8))
def test_sweep_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    items = []
    for k in range(3):
        n = int(rng.integers(80, 200))
        t = ts(n)
        wins = []
        at = int(rng.integers(20, 40))
        while at + 12 < n:
            wins.append((t[at], t[at + int(rng.integers(1, 12))]))
            at += int(rng.integers(25, 60))
        sc = np.round(rng.random(n), 2)  # ties on purpose
        for rows in ns.window_masks(t, wins):
            sc[rows[0] + int(rng.integers(0, len(rows)))] += rng.random() * 0.5
        items.append((ns.Series.build(f"f{k}", t, wins), sc))
    for name, p in ns.PROFILES.items():
        thr, raw = ns.sweep_threshold(items, p)
        bt, braw = brute_best(items, p)
        assert raw == pytest.approx(braw, abs=1e-9), name
        assert thr == bt, name
        res = ns.score_corpus(items, name)
        assert res.raw == pytest.approx(raw, abs=1e-9)


def test_normalisation_null_and_perfect():
    t = ts(300)
    wins = [(t[100], t[119]), (t[200], t[219])]
    s = ns.Series.build("n", t, wins)
    perfect = scores_at(300, [100, 200])
    for name in ns.PROFILES:
        assert ns.score_corpus([(s, perfect)], name).normalized == pytest.approx(100.0)
        assert ns.score_corpus([(s, np.full(300, 0.5))], name).normalized == pytest.approx(0.0)
    res = ns.score_corpus([(s, perfect)], "standard")
    assert res.contribution("n") == pytest.approx(100.0)


def test_sweep_prefers_not_firing_when_every_alarm_hurts():
    t = ts(300)
    s = ns.Series.build("q", t, [(t[200], t[201])])
    sc = np.zeros(300)
    sc[50:150] = 1.0  # a hundred false alarms before the window, the window itself missed
    thr, raw = ns.sweep_threshold([(s, sc)], STD)
    assert thr == math.inf and raw == pytest.approx(-1.0)
