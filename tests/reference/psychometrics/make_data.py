"""Generate the item data sets that psych_reference.R analyses.

Run once from the repository root (the CSV files are committed; the suite only
reads them):

    .venv/bin/python tests/reference/psychometrics/make_data.py
    Rscript tests/reference/psychometrics/psych_reference.R

Each set comes from a one-factor model with a fixed seed, rounded to whole
responses and clipped to the scale range, like real questionnaire answers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent


def one_factor(rng, n, loadings, centre, spread, low, high):
    loadings = np.asarray(loadings, dtype=float)
    factor = rng.standard_normal((n, 1))
    noise = rng.standard_normal((n, len(loadings)))
    latent = factor * loadings + noise * np.sqrt(1.0 - loadings ** 2)
    return np.clip(np.round(centre + spread * latent), low, high)


def alliance6(rng):
    """Six 0–10 sliders (two each for bond, goals, tasks), n = 200, a ceiling like real alliance data."""
    names = ["bond1", "bond2", "goals1", "goals2", "tasks1", "tasks2"]
    values = one_factor(rng, 200, [0.80, 0.75, 0.70, 0.65, 0.60, 0.50], 7.0, 1.9, 0, 10)
    frame = pd.DataFrame(values.astype(int), columns=names)
    frame.insert(0, "client_id", [f"c{i:03d}" for i in range(1, 201)])
    return frame


def waisr12(rng):
    """Twelve 1–5 items, n = 250; wai07 is worded negatively (reverse it with min 1, max 5)."""
    names = [f"wai{i:02d}" for i in range(1, 13)]
    loadings = [0.72, 0.65, 0.70, 0.55, 0.68, 0.60, -0.50, 0.75, 0.62, 0.58, 0.66, 0.52]
    values = one_factor(rng, 250, loadings, 3.6, 0.9, 1, 5)
    frame = pd.DataFrame(values.astype(int), columns=names)
    frame.insert(0, "id", [f"p{i}" for i in range(1, 251)])
    return frame


def messy(rng):
    """Five 1–7 items, n = 40, q3 reversed, q5 weak; six rows have a missing answer."""
    names = ["q1", "q2", "q3", "q4", "q5"]
    values = one_factor(rng, 40, [0.75, 0.70, -0.65, 0.60, 0.20], 4.5, 1.5, 1, 7)
    frame = pd.DataFrame(values.astype(int), columns=names).astype(object)
    for row, column in [(3, "q2"), (7, "q5"), (12, "q1"), (20, "q3"), (21, "q3"), (33, "q4")]:
        frame.loc[row, column] = ""
    frame.loc[21, "q4"] = "NA"  # a second missing cell in an already incomplete row
    frame.insert(0, "respondent", [f"r{i:02d}" for i in range(1, 41)])
    frame["note"] = ["" if i % 5 else "free text, with a comma" for i in range(40)]
    return frame


def main():
    rng = np.random.default_rng(20240611)
    alliance6(rng).to_csv(HERE / "alliance6.csv", index=False)
    waisr12(rng).to_csv(HERE / "waisr12.csv", index=False)
    messy(rng).to_csv(HERE / "messy.csv", index=False)


if __name__ == "__main__":
    main()
