"""Signals in words: the rule, its parameters and the data, for the "why" disclosure.

Only wording and number formatting; the values themselves were computed by the core
and stored with the signal.
"""

from __future__ import annotations

from dataclasses import dataclass

from alliance.core.signals.records import number

RULES = {
    "risk_item": "An answer at or above a risk item's threshold, a fact of the instrument "
                 "(docs/safety.md): it reaches a person at once.",
    "phrase_list": "A comment contains a phrase on the clinic's list: an aid to reading, not "
                   "detection (docs/safety.md).",
    "sd1": "A drop at least as large as this client's usual session-to-session variation "
           "(m = 1 standard deviation).",
    "sd2": "A drop at least twice this client's usual session-to-session variation "
           "(m = 2 standard deviations).",
    "rci": "A drop larger than the measure's own error can explain (reliable change: more "
           "than 1.96 × the standard error of the difference).",
    "cutoff": "A score below the measure's published cutoff.",
    "percentile": "A score in the lowest part of this clinic's ratings at the same session "
                  "number.",
    "pomp_difference": "The therapist's rating higher than the client's by more than the "
                       "threshold, with both put on a 0–100 scale.",
    "expected_band": "A score outside the range expected at this session for clients who "
                     "started at a similar level, from this clinic's own closed cases.",
    "missed_in_a_row": "Scheduled sessions in a row that did not take place (cancelled or "
                       "missed).",
    "unanswered_in_a_row": "Check-ins sent after attended sessions that were left unanswered, "
                           "in a row.",
    "long_gap": "A gap between sessions much longer than this client's usual interval.",
    "not_agreed": "A goal proposed but not yet agreed.",
    "ratings_apart": "Client and therapist rated a goal's progress far apart.",
    "review_overdue": "No goal review for several sessions.",
    "progress_flat": "A goal's progress ratings have stayed the same for several reviews.",
    "done_in_a_row": "An agreed task reported not done several times in a row.",
    "helpful_in_a_row": "An agreed task rated not helpful several times in a row.",
    "open_answer": "The client wrote an answer to an open question of the check-in.",
    "portal_message": "The client wrote to their therapist in the client portal.",
}

PARAMETERS = {
    "instrument": "Measure",
    "score": "Score watched",
    "reference": "Compared with",
    "window": "Repair window (rated sessions)",
    "m": "Multiplier m",
    "pooled_sd": "Clinic's usual variation (pooled within-client SD)",
    "pooled_sd_source": "Where that comes from",
    "pooled_sd_n_rated": "Ratings it rests on",
    "prior_weight": "Weight of the clinic's variation (sessions)",
    "sd": "Standard deviation of the score",
    "reliability": "Reliability of the score",
    "s_diff": "Standard error of the difference",
    "critical_value": "Critical value",
    "cutoff": "Cutoff",
    "percentile": "Percentile",
    "min_reference": "Fewest ratings for a percentile",
    "reference_group": "Compared with ratings at",
    "threshold_pomp": "Threshold (points on 0–100)",
    "client_scale": "Client form's scale",
    "therapist_scale": "Therapist form's scale",
    "higher_is_better": "Higher is better",
    "missed_in_a_row": "Sessions in a row",
    "unanswered_in_a_row": "Check-ins in a row",
    "gap_factor": "Times the usual interval",
    "gap_min_days": "At least (days)",
    "gap_min_intervals": "Earlier intervals needed",
    "question": "Question",
}

DATA = {
    "reference": "Reference (before)",
    "score": "Score",
    "threshold": "Threshold",
    "drop": "Drop",
    "s_t": "This client's variation so far (s_t)",
    "s_diff": "Standard error of the difference",
    "state": "Repair",
    "repaired_session": "Back at the earlier level at session",
    "cutoff": "Cutoff",
    "n_reference": "Ratings in the comparison",
    "client_score": "Client's rating",
    "therapist_score": "Therapist's rating",
    "client_pomp": "Client's rating (0–100)",
    "therapist_pomp": "Therapist's rating (0–100)",
    "difference": "Difference (points on 0–100)",
    "observed": "Score",
    "expected": "Expected",
    "low": "Expected range from",
    "high": "Expected range to",
    "missed": "Sessions",
    "unanswered": "Check-ins",
    "from_session": "From session",
    "to_session": "To session",
    "gap_days": "Gap (days)",
    "usual_days": "Usual interval (days)",
    "also": "Also fell at this session",
    "written_on": "Written on",
}

# Labels of one rule's own parameters and data, where they differ from the shared ones
# above (a goal's ratings are on the 0–10 progress scale, not POMP points) or are the
# rule's alone. A key listed here is shown even when HIDDEN hides it for other rules.
RULE_LABELS = {
    "not_agreed": {
        "after_sessions": "Sessions it may wait for agreement",
        "after_days": "Or days it may wait",
        "proposed_session": "Proposed at session",
        "sessions_since": "Sessions since, not yet agreed",
    },
    "ratings_apart": {
        "threshold": "Ratings apart by at least (points, 0–10)",
        "client_rating": "Client's progress rating (0–10)",
        "therapist_rating": "Therapist's progress rating (0–10)",
        "difference": "Points apart",
    },
    "review_overdue": {
        "max_sessions": "Sessions allowed between reviews",
        "sessions_without_review": "Sessions without a review",
        "since_session": "Last reviewed (or agreed) at session",
        "from_session": "First session without a review",
    },
    "progress_flat": {
        "n_reviews": "Reviews in a row",
        "tolerance": "Counted as level within (points)",
        "rating": "Ratings watched",
        "ratings": "Progress ratings (0–10), oldest first",
        "from_session": "From session",
    },
    "done_in_a_row": {
        "in_a_row": "Reports in a row",
        "reports": "Reports not done",
        "from_session": "From session",
    },
    "helpful_in_a_row": {
        "in_a_row": "Reports in a row",
        "reports": "Reports rated not helpful",
        "from_session": "From session",
    },
}

VALUES = {
    ("reference", "previous"): "the previous score",
    ("reference", "mean3"): "the mean of up to the last 3 scores",
    ("pooled_sd_source", "clinic"): "this clinic's own ratings",
    ("pooled_sd_source", "default"): "a cautious starting value (a tenth of the scale), "
                                     "until the clinic has enough ratings",
    ("state", "repaired"): "repaired",
    ("state", "pending"): "window still open",
    ("state", "unresolved"): "not back at the earlier level within the window",
    ("rating", "client_rating"): "the client's",
    ("rating", "therapist_rating"): "the therapist's",
}

# Scores on the measure's scale, shown to one decimal like every score on the pages.
SCORE_KEYS = {"reference", "score", "observed", "expected", "client_score",
              "therapist_score", "drop"}

# Shown elsewhere (the answer itself) or only of use to the engine.
HIDDEN = {"text", "session", "open", "tolerance", "goal_id", "task_id"}


@dataclass(frozen=True)
class Why:
    rule: str
    rule_text: str
    parameters: list[tuple[str, str]]
    data: list[tuple[str, str]]


def plain_value(value, key: str = "") -> str:
    if isinstance(value, (str, int, float, bool)) and (key, value) in VALUES:
        return VALUES[(key, value)]
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and key in SCORE_KEYS:
        return number(value)  # a score: one decimal, as on every page
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if key == "ratings" and isinstance(value, list):
        # A series of ratings, never a range (even when there are two).
        return ", ".join(plain_value(v) for v in value)
    if key == "also" and isinstance(value, list):
        return "; ".join(f"{part.get('subject')} {plain_value(part.get('reference'))} → "
                         f"{plain_value(part.get('score'))}" for part in value)
    if isinstance(value, list) and len(value) == 2:
        return f"{plain_value(value[0])}–{plain_value(value[1])}"
    if isinstance(value, list):
        return ", ".join(plain_value(v) for v in value)
    return str(value)


def _rows(values: dict, labels: dict[str, str], rule: str = "") -> list[tuple[str, str]]:
    own = RULE_LABELS.get(rule, {})
    rows = []
    for key, value in (values or {}).items():
        if key in HIDDEN and key not in own:
            continue
        label = own.get(key) or labels.get(key) or key.replace("_", " ").capitalize()
        rows.append((label, plain_value(value, key)))
    return rows


def explain(signal) -> Why:
    return Why(rule=signal.rule, rule_text=RULES.get(signal.rule, signal.rule),
               parameters=_rows(signal.parameters, PARAMETERS, signal.rule),
               data=_rows(signal.data, DATA, signal.rule))
