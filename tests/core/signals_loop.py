"""A straightforward per-client loop implementation of the rupture rule.

It follows docs/signals.md line by line, with no vectorisation, so that the
vectorised engine can be checked against it on random data.
"""

import math

import numpy as np

TOLERANCE = 1e-9


def loop_pooled_sd(by_client):
    deviations = []
    for rows in by_client.values():
        mean = sum(a for _, a in rows) / len(rows)
        deviations.extend((a - mean) ** 2 for _, a in rows)
    return math.sqrt(sum(deviations) / len(deviations))


def loop_ruptures(client, session, score, *, rule="sd2", reference="previous", window=3,
                  pooled_sd=None, sd=None, reliability=None):
    """Ruptures as a list of dicts, one per rupture, in client (first seen) then session order."""
    by_client = {}
    for c, s, a in zip(client, session, score):
        by_client.setdefault(c, [])
        if not math.isnan(a):
            by_client[c].append((s, a))
    by_client = {c: rows for c, rows in by_client.items() if rows}
    if rule != "rci" and pooled_sd is None:
        pooled_sd = loop_pooled_sd(by_client)
    found = []
    for c, rows in by_client.items():
        rows.sort()
        a = [v for _, v in rows]
        for t in range(1, len(a)):          # 0-based t: the (t+1)-th rated session
            prior = a[:t]
            last3 = prior[-3:]
            ref = prior[-1] if reference == "previous" else sum(last3) / len(last3)
            if rule == "rci":
                spread = sd * math.sqrt(2) * math.sqrt(1 - reliability)
                threshold = ref - 1.96 * spread
                fired = (ref - a[t]) - 1.96 * spread > TOLERANCE
            else:
                m = 1 if rule == "sd1" else 2
                df = len(prior) - 1
                v = float(np.var(prior, ddof=1)) if df > 0 else 0.0
                spread = math.sqrt((df * v + 3 * pooled_sd ** 2) / (df + 3))
                threshold = ref - m * spread
                fired = a[t] <= threshold + TOLERANCE
            if not fired:
                continue
            state, repaired = "pending", None
            for r in range(t + 1, t + window + 1):
                if r >= len(a):
                    break
                if a[r] >= ref - TOLERANCE:
                    state, repaired = "repaired", rows[r][0]
                    break
            if state == "pending" and len(a) - 1 - t >= window:
                state = "unresolved"
            found.append({"client_id": c, "session": rows[t][0], "reference": ref,
                          "score": a[t], "threshold": threshold, "spread": spread,
                          "state": state, "repaired_session": repaired})
    return found, pooled_sd
