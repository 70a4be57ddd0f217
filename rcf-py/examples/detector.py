"""rcf thresholded detector, notebook style: grade a stream, explain, forecast, fill gaps, save.

Run:  python rcf-py/examples/detector.py [--out DIR]
Writes detector_series.png next to this file, and model.tar.gz into DIR (default: a temporary folder).
"""

import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # in a notebook, leave this out and the figure shows inline

import numpy as np
import pandas as pd

import rcf
import rcf.plot

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default=tempfile.mkdtemp(prefix="rcf-detector-"))
args = parser.parse_args()

# %% A generated series: a daily cycle sampled every 5 minutes, with three incidents and a few
# missing readings.
rng = np.random.default_rng(7)
n = 3000
t = np.arange(n)
df = pd.DataFrame(
    {"requests": 100 + 30 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 2, n)},
    index=pd.date_range("2024-03-01", periods=n, freq="5min"),
)
df.iloc[1800, 0] += 60  # a burst
df.iloc[2300:2306, 0] -= 50  # an outage
df.iloc[2700, 0] += 45  # another burst
df.iloc[[1000, 1001, 2500], 0] = np.nan  # missing readings

# %% The detector learns as it goes: no fit. Its threshold adapts to the stream's own scores, and
# each row gets a grade in [0, 1]. Missing values are filled with the forest's estimate.
detector = rcf.ThresholdedRandomCutForest(
    shingle_size=8, transform="normalize", fill="forest", forecast_horizon=24, random_state=0
)
result = detector.process_series(df)  # timestamps: the DatetimeIndex
anomalies = result[result["grade"] > 0]
print(f"{len(anomalies)} of {len(df)} rows graded anomalous:")
print(anomalies[["grade", "score", "threshold", "relative_index", "expected_requests"]].round(2).to_string())
print(f"imputed values: {int(result['imputed_values'].sum())}")

# %% One more reading, as it arrives: the descriptor says what was expected and why.
d = detector.process([250.0], timestamp=df.index[-1] + pd.Timedelta("5min"))
print(f"\nnext reading 250: grade {d.grade:.2f}, expected {d.expected_values[0]:.1f}, suppression {d.suppression!r}")

# %% Forecast the next two hours with calibrated 90 % intervals.
forecast = detector.forecast(24, coverage=0.9)
print("\nforecast (first 4 steps):")
print(forecast.head(4).round(1).to_string())

# %% Plot: the series with the graded rows in red, and the scores with the adaptive threshold.
# (threshold=inf: rcf.plot flags nothing itself; the detector's grades mark the anomalies instead.)
flagged = result["grade"].to_numpy() > 0
title = f"rcf: thresholded detector, {int(flagged.sum())} rows graded anomalous"
fig = rcf.plot.series(df["requests"].ffill(), result["score"], threshold=np.inf, title=title)
top, bottom = fig.axes
top.scatter(df.index[flagged], df["requests"].ffill()[flagged], color="red", s=25, zorder=3)
bottom.scatter(df.index[flagged], result["score"][flagged], color="red", s=25, zorder=3, label="grade > 0")
bottom.plot(df.index, result["threshold"], color="orange", lw=1, label="adaptive threshold")
bottom.legend(loc="upper left")
fig.savefig(os.path.join(here, "detector_series.png"), dpi=80)
print(f"\nplot written to {here}")

# %% Save and load: the same model.tar.gz layout as RandomCutForest; rcf.load returns a detector.
path = os.path.join(args.out, "model.tar.gz")
detector.save(path)
again = rcf.load(path)
assert isinstance(again, rcf.ThresholdedRandomCutForest)
assert again.process([120.0]).score == detector.process([120.0]).score
print(f"saved {path}; the reloaded detector continues identically")
