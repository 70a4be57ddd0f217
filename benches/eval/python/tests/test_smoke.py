"""CI smoke run: the whole harness on a small generated data set (no ../shared needed).

Needs the rcf-eval binary: RCF_EVAL_BIN, or the repository's release target directories.
"""
import json
import os

import harness
import gen_smoke


def test_harness_end_to_end(tmp_path, capsys):
    gen_smoke.main([str(tmp_path / "data"), "--length", "1000"])
    out = tmp_path / "out"
    rc = harness.main(["--nab", str(tmp_path / "data" / "NAB"), "--adbench", str(tmp_path / "data" / "adbench"),
                       "--out", str(out), "--seeds", "2"] + (["--bin", os.environ["RCF_EVAL_BIN"]]
                                                              if os.environ.get("RCF_EVAL_BIN") else []))
    assert rc == 0
    text = capsys.readouterr().out
    for needle in ("== NAB per series", "== NAB scores on these 4 series", "TARGET HEADLINE NAB standard",
                   "== ADBench", "TARGET ADBench mean ROC-AUC", "TARGET ADBench no set",
                   "Published AWS RCF at NAB's stored thresholds"):
        assert needle in text, needle
    summary = json.loads((out / "summary.json").read_text())
    nab = summary["nab"]
    assert nab["detectors"][0] == "aws_rcf_published"
    assert {"rcf_raw", "krcflib", "krcflib_trcf"} <= set(nab["detectors"])
    assert len(nab["per_series"]) == 4 * len(nab["detectors"])
    for d, by_profile in nab["scores"].items():
        assert set(by_profile) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
        for v in by_profile.values():
            assert -1000 < v["normalized"] <= 100.0
    # the synthetic spikes and level shift are obvious: rcf's raw score must rank them highly
    spikes = [r for r in nab["per_series"] if r["detector"] == "rcf_raw" and r["series"].endswith("spikes.csv")][0]
    assert spikes["roc_auc"] > 0.6
    adb = summary["adbench"]
    assert [r["set"] for r in adb["rows"]] == ["1_blobs", "2_wide"]
    for r in adb["rows"]:
        assert 0.5 < r["rcf_roc"] <= 1.0 and 0.5 < r["iforest_roc"] <= 1.0
    pngs = os.listdir(out / "plots" / "nab")
    assert len(pngs) == 4 and all(p.endswith(".png") for p in pngs)
    assert (out / "plots" / "summary.png").stat().st_size > 10_000
    assert (out / "report.md").read_text().startswith("# rcf-eval report")
