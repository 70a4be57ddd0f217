"""rcf quickstart, notebook style: fit, score, explain, plot, save.

Run:  python rcf-py/examples/quickstart.py [--out DIR]
Writes quickstart_series.png and quickstart_attribution.png next to this file, and model.tar.gz into
DIR (default: a temporary folder) -- the same artifact `rcf score` and the SageMaker container load.
"""

import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")  # in a notebook, leave this out and the figures show inline

import numpy as np
import pandas as pd

import rcf
import rcf.plot

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", default=tempfile.mkdtemp(prefix="rcf-quickstart-"))
args = parser.parse_args()

# %% A generated series: two sensors with a daily cycle, noise, and three incidents.
rng = np.random.default_rng(42)
n = 4000
t = np.arange(n)
df = pd.DataFrame(
    {
        "temperature": 20 + 5 * np.sin(2 * np.pi * t / 288) + rng.normal(0, 0.3, n),
        "load": 50 + 10 * np.cos(2 * np.pi * t / 288) + rng.normal(0, 1.0, n),
    },
    index=pd.date_range("2024-03-01", periods=n, freq="5min"),
)
df.iloc[2500, 0] += 6.0  # a temperature spike
df.iloc[3100:3110, 1] -= 25.0  # a load drop lasting 50 minutes
df.iloc[3600, :] += [4.0, 20.0]  # both at once

# %% Fit on the first, clean part (shingling joins 4 consecutive rows into one point).
train, live = df.iloc[:2000], df.iloc[2000:]
model = rcf.RandomCutForest(num_trees=100, sample_size=256, shingle_size=4, random_state=0)
model.fit(train)
print(f"fitted on {len(train)} rows; threshold (mean + 3 sd of training scores) = {model.threshold_:.3f}")

# %% Score the live part as a stream: each row is scored, then learned, in one call into Rust.
scores = model.score_update(live)
flagged = live.index[scores > model.threshold_]
print(f"{len(flagged)} of {len(live)} live rows flagged; top 5:")
top = np.argsort(scores)[::-1][:5]
for i in sorted(top):
    print(f"  {live.index[i]}  score {scores[i]:.2f}")

# %% Explain the worst point: which sensor, and was it too high or too low?
worst = int(np.argmax(scores))
context = live.iloc[: worst + 1]
# attribution() scores rows as the continuation of the model's stream: rebuild the state just before
# the worst row by replaying the stream into a copy of the fitted model.
explainer = rcf.RandomCutForest(num_trees=100, sample_size=256, shingle_size=4, random_state=0).fit(train)
explainer.update(context.iloc[:-1])
why = explainer.attribution(context.iloc[[-1]])  # a DataFrame: one column per sensor
parts = explainer.attribution(context.iloc[[-1]], as_frame=False)[0]  # (features, [high, low])
print(f"worst point {live.index[worst]}: score {scores[worst]:.2f}")
for name, (high, low) in zip(df.columns, parts):
    print(f"  {name:12s} higher-than-expected {high:.2f}   lower-than-expected {low:.2f}")
assert np.isclose(why.to_numpy().sum(), scores[worst])

# %% Plot: the series with flagged points, and the attribution of the worst point.
fig = rcf.plot.series(live, scores, threshold=model.threshold_, title="rcf: live data, anomalies in red")
fig.savefig(os.path.join(here, "quickstart_series.png"), dpi=80)
fig = rcf.plot.attribution(parts, feature_names=list(df.columns), title=f"why {live.index[worst]} is anomalous")
fig.savefig(os.path.join(here, "quickstart_attribution.png"), dpi=80)
print(f"plots written to {here}")

# %% Save: the same model.tar.gz the CLI and SageMaker endpoint read. Load it back: identical scores.
path = os.path.join(args.out, "model.tar.gz")
model.save(path)
again = rcf.load(path)
probe = df.iloc[:50]
assert np.array_equal(again.anomaly_score(probe), model.anomaly_score(probe))
print(f"saved {path} ({os.path.getsize(path) / 1024:.0f} KiB); reloaded model scores identically")
