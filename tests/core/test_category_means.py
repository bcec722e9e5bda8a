"""Mean per session category with a random intercept per client, against statsmodels."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alliance.core.category_means import category_means
from alliance.core.errors import InputError, NotEnoughDataError


def _sessions(seed=7, clients=40, per_client=8):
    """Clients who differ in their level, sessions in person, by video or by phone (rarely
    by text), the video sessions rated half a point lower, some outcomes and formats missing."""
    rng = np.random.default_rng(seed)
    client = np.repeat(np.arange(clients), per_client)
    kind = rng.choice(["in_person", "video", "phone"], size=len(client), p=[0.5, 0.35, 0.15])
    kind[:4] = "text"
    y = (5.5 - 0.5 * (kind == "video") + rng.normal(0, 0.8, clients)[client]
         + rng.normal(0, 0.6, len(client)))
    y[4:][rng.random(len(client) - 4) < 0.05] = np.nan
    kind = kind.astype(object)
    kind[10:13] = ""
    return pd.DataFrame({"alliance": y, "format": kind, "client": [f"c{c}" for c in client]})


def test_means_match_statsmodels_mixedlm_and_small_categories_get_a_note():
    from statsmodels.regression.mixed_linear_model import MixedLM

    frame = _sessions()
    result = category_means(frame, "alliance", "format", "client")
    assert [c.category for c in result.categories] == ["in_person", "phone", "text", "video"]

    used = frame[frame["alliance"].notna() & (frame["format"] != "")
                 & (frame["format"] != "text")]
    levels = ["in_person", "phone", "video"]
    X = np.column_stack([(used["format"] == name).to_numpy(float) for name in levels])
    reference = MixedLM(used["alliance"].to_numpy(), X, groups=used["client"].to_numpy()).fit(
        reml=True, method=["lbfgs"])
    for j, name in enumerate(levels):
        ours = result.category(name)
        assert ours.n_sessions == int((used["format"] == name).sum())
        assert ours.n_clients == used.loc[used["format"] == name, "client"].nunique()
        assert ours.estimate == pytest.approx(reference.fe_params[j], rel=1e-4)
        assert ours.se == pytest.approx(reference.bse_fe[j], rel=1e-3)
        half = stats.t.ppf(0.975, ours.df) * ours.se
        assert (ours.ci_low, ours.ci_high) == pytest.approx(
            (ours.estimate - half, ours.estimate + half))
        assert 1 < ours.df < len(used)
    assert result.client_variance == pytest.approx(float(np.asarray(reference.cov_re)[0, 0]),
                                                   rel=1e-3)
    assert result.residual_variance == pytest.approx(reference.scale, rel=1e-4)
    assert result.n_sessions == len(used)
    # The planted difference: video about half a point below in person.
    assert result.category("video").estimate < result.category("in_person").estimate - 0.2

    text = result.category("text")
    assert text.n_sessions == 4 and text.estimate is None and text.ci_low is None
    assert "too few rated sessions" in text.note


def test_a_mean_differs_from_the_plain_mean_when_clients_differ_in_how_often():
    # One high-rating client has most of the video sessions: the model weighs clients.
    rows = [("c0", "video", 7.0)] * 12 + [("c0", "in_person", 6.6)] * 2
    for c in range(1, 8):
        rows += [(f"c{c}", "video", 4.0 + 0.1 * c), (f"c{c}", "in_person", 4.2 + 0.1 * c)] * 2
    frame = pd.DataFrame(rows, columns=["client", "format", "alliance"])
    result = category_means(frame, "alliance", "format", "client")
    plain = frame.groupby("format")["alliance"].mean()
    assert result.category("video").estimate < plain["video"] - 0.3


def test_too_little_data_and_bad_columns_are_clear_errors():
    frame = _sessions(clients=3, per_client=12)
    with pytest.raises(NotEnoughDataError, match="at least 5 clients; there are 3"):
        category_means(frame, "alliance", "format", "client")
    with pytest.raises(NotEnoughDataError, match="no format has 10 or more"):
        category_means(_sessions(clients=1, per_client=6), "alliance", "format", "client")
    with pytest.raises(InputError, match="no column 'mode'"):
        category_means(frame, "alliance", "mode", "client")
