"""Reading signals for the pages: a case's signals in the order the page shows them, and
what needs attention across a caseload (one query each)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count

from alliance.web.care.models import Case
from alliance.web.monitoring.models import Signal


def mark_attention(signals, clinic) -> list:
    """Give each signal the clinic's kinds needing attention, so that `needs_attention`
    reads no clinic per signal."""
    types = clinic.attention_type_set
    signals = list(signals)
    for signal in signals:
        signal.attention_types = types
    return signals


def signals_for_case(case: Case):
    """The case's signals for the page: those needing attention first, then newest first.

    The client's comments are not among them: they are read (`new_comments`), not acted on
    as signals."""
    rank = {kind: i for i, kind in enumerate(Signal.Type.values)}
    parts = {"total": 0, "bond": 1, "goals": 2, "tasks": 3}
    rows = mark_attention(case.signals.select_related("session")
                          .exclude(type=Signal.Type.CLIENT_FEEDBACK), case.client.clinic)
    return sorted(rows, key=lambda s: (not (s.type == Signal.Type.RISK
                                            and s.state == Signal.State.OPEN),
                                       not s.needs_attention, s.state == Signal.State.DISMISSED,
                                       -(s.session.number if s.session else 10 ** 9),
                                       rank.get(s.type, 99), parts.get(s.subject, 9),
                                       s.subject))


def new_comments(case: Case) -> list:
    """The case's comments from the client nobody has marked read yet, newest first."""
    return list(Signal.objects.new_comments().filter(case=case).select_related("session")
                .order_by("-created_at", "-pk"))


def comment_counts(case_ids: Iterable[int]) -> dict[int, int]:
    """Case id → number of new comments to read (one query), for caseload pages."""
    rows = (Signal.objects.new_comments().filter(case_id__in=list(case_ids)).order_by()
            .values("case_id").annotate(n=Count("pk")))
    return {row["case_id"]: row["n"] for row in rows}


def attention_counts(case_ids: Iterable[int], clinic) -> dict[int, int]:
    """Case id → number of signals needing attention (one query), for caseload pages."""
    rows = (Signal.objects.for_attention(clinic).filter(case_id__in=list(case_ids)).order_by()
            .values("case_id").annotate(n=Count("pk")))
    return {row["case_id"]: row["n"] for row in rows}


def type_labels(kinds: Iterable[str]) -> list[str]:
    """Signal kinds in words, each once, in the order of `Signal.Type`."""
    labels = dict(Signal.Type.choices)
    rank = {kind: i for i, kind in enumerate(labels)}
    return [labels.get(k, k) for k in sorted(set(kinds), key=lambda k: rank.get(k, 99))]

