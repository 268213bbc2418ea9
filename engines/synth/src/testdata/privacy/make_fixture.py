"""Writes the privacy-report fixture: real, held-out, synthetic and random rows from Palmer
penguins, with sdmetrics' own DCR numbers on them (expected.json), for
engines/synth/src/privacy/tests.rs.

    python3 -m venv /tmp/v && /tmp/v/bin/pip install 'sdmetrics==0.32.0' 'pandas<3' palmerpenguins==0.1.4
    /tmp/v/bin/python engines/synth/src/testdata/privacy/make_fixture.py

Data: palmerpenguins 0.1.4's `load_penguins()` (344 rows; CC0, Horst, Hill and Gorman 2020),
shuffled with seed 0: the first 200 rows are the real (training) rows, the next 100 the
held-out rows. The 150 synthetic rows are real rows drawn with replacement (seed 1), their
numbers moved by Gaussian noise of 5 % of the column's standard deviation and rounded as the
column is, each category redrawn with probability 0.2; rows 0-4 are exact copies. The 150
random rows are `DCRBaselineProtection._generate_random_data` with seed 2 (numpy's global
seed 3 for its missing-value mask). The numbers in expected.json are sdmetrics' own:
`calculate_dcr` for each pair, and both metrics' `compute_breakdown` (the baseline one given
these random rows).
"""
import json
import pathlib

import numpy as np
import pandas as pd
import palmerpenguins
import sdmetrics
from sdmetrics.single_table.privacy.dcr_baseline_protection import DCRBaselineProtection
from sdmetrics.single_table.privacy.dcr_overfitting_protection import DCROverfittingProtection
from sdmetrics.single_table.privacy.dcr_utils import calculate_dcr

HERE = pathlib.Path(__file__).resolve().parent
NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]
CATEGORICAL = ["species", "island", "sex"]
METADATA = {"columns": {**{c: {"sdtype": "numerical"} for c in NUMERIC},
                        **{c: {"sdtype": "categorical"} for c in CATEGORICAL}}}


def main():
    data = palmerpenguins.load_penguins()[CATEGORICAL[:2] + NUMERIC[:4] + ["sex", "year"]]
    data = data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    real, holdout = data.iloc[:200].reset_index(drop=True), data.iloc[200:300].reset_index(drop=True)

    rng = np.random.default_rng(1)
    synthetic = real.iloc[rng.integers(0, len(real), 150)].reset_index(drop=True).copy()
    for c in NUMERIC[:4]:
        noise = rng.normal(0, 0.05 * real[c].std(), len(synthetic))
        decimals = 1 if c.startswith("bill") else 0
        moved = (synthetic[c] + noise).round(decimals)
        synthetic.loc[5:, c] = moved[5:]
    for c in CATEGORICAL:
        values = real[c].dropna().unique()
        redraw = rng.random(len(synthetic)) < 0.2
        redraw[:5] = False
        synthetic.loc[redraw, c] = rng.choice(values, redraw.sum())
    synthetic.loc[:4] = real.iloc[:5].values

    DCRBaselineProtection._seed = 2
    np.random.seed(3)
    random = DCRBaselineProtection._generate_random_data(real, len(synthetic))

    files = {"real": real, "holdout": holdout, "synthetic": synthetic, "random": random}
    for name, frame in files.items():
        frame.to_csv(HERE / f"{name}.csv", index=False)
    # Read back, as the Rust test reads them.
    real, holdout, synthetic, random = (pd.read_csv(HERE / f"{n}.csv") for n in files)

    DCRBaselineProtection._generate_random_data = classmethod(lambda cls, r, n=None: random)
    baseline = DCRBaselineProtection.compute_breakdown(real, synthetic, METADATA, None)
    overfitting = DCROverfittingProtection.compute_breakdown(real, synthetic, holdout, METADATA,
                                                             None)
    expected = {
        "sdmetrics": sdmetrics.__version__,
        "numeric": NUMERIC, "categorical": CATEGORICAL,
        "dcr_synthetic_to_real": calculate_dcr(synthetic, real, METADATA).tolist(),
        "dcr_random_to_real": calculate_dcr(random, real, METADATA).tolist(),
        "dcr_synthetic_to_holdout": calculate_dcr(synthetic, holdout, METADATA).tolist(),
        "baseline_protection": baseline,
        "overfitting_protection": overfitting,
    }
    with open(HERE / "expected.json", "w") as f:
        json.dump(expected, f, indent=1)
    print(json.dumps({k: v for k, v in expected.items() if not k.startswith("dcr_")}))


if __name__ == "__main__":
    main()
