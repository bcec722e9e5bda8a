"""The session brief: what a therapist wants in mind before the next session, in a few lines.

Built from what the case page has already loaded (`casepage.CaseData`) and the goals'
review status: the last check-in and when, the signals needing attention in plain words,
whether a goal review is due, and one suggested opening question drawn from the most
important open signal. The question is a suggestion in the therapist's own voice; it
names no score, only what the client said (lower, higher) in words they would use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from alliance.web.dashboards import attention

#: The parts of the alliance as a client would say them.
PART_WORDS = {
    "total": "our work together",
    "bond": "how we get on",
    "goals": "whether we work on what matters to you",
    "tasks": "how we go about the work",
}

#: One opening question per kind of signal; `{part}` is filled from PART_WORDS.
QUESTIONS = {
    "rupture": "Last time you rated {part} lower than before — what felt different?",
    "low_alliance": "How is {part} feeling for you at the moment — is there something you "
                    "would like more of, or less of?",
    "not_on_track": "Things look harder than we hoped lately — what has been happening for "
                    "you since we last met?",
    "discrepancy": "I may be seeing our work differently from how you see it — how do you "
                   "feel it is going?",
    "disengagement": "It has been harder to keep in touch lately — what has got in the way?",
    "goal_not_agreed": "Does the goal I suggested fit what you want from our work — or "
                       "would you put it differently?",
    "goal_ratings_apart": "We seem to see your progress on {goal} differently — how do you "
                          "see it?",
    "goal_review_overdue": "Shall we look together at how your goals are going?",
    "goal_progress_flat": "How are you getting on with what we agreed to work towards?",
    "task_not_done": "The task we agreed did not quite happen — what got in the way?",
    "task_unhelpful": "The task we agreed did not seem to help much — what would suit you "
                      "better?",
    "client_feedback": "You wrote something to me since we last met — shall we start there?",
}
DEFAULT_QUESTION = "What would be most useful to focus on today?"


@dataclass
class Brief:
    last_checkin: str
    signals: list[str] = field(default_factory=list)
    goals: str = ""
    question: str = DEFAULT_QUESTION
    question_source: str = ""   # why this question: the signal it comes from


def _when(day: dt.date, today: dt.date) -> str:
    days = (today - day).days
    if days == 0:
        ago = "today"
    elif days == 1:
        ago = "yesterday"
    elif days > 1:
        ago = f"{days} days ago"
    else:
        ago = "in the future"
    return f"{day.day} {day:%B %Y} ({ago})"


def last_checkin(series, today: dt.date) -> str:
    """"Last check-in: session 4, 2 March 2026 (5 days ago)." or that there is none."""
    answered = [s for s in series.sessions if s.alliance is not None or s.wellbeing is not None]
    if not answered:
        return "No check-in answered yet."
    last = answered[-1]
    return f"Last check-in: session {last.number}, {_when(last.date, today)}."


def question_for(signal) -> str:
    template = QUESTIONS.get(signal.type)
    if template is None:
        return DEFAULT_QUESTION
    subject = getattr(signal, "subject", "") or "total"
    return template.format(part=PART_WORDS.get(subject, PART_WORDS["total"]),
                           goal="one of your goals")


def session_brief(series, signals, review, *, today: dt.date) -> Brief:
    """The brief for the next session.

    `series`: the case's `CaseSeries`; `signals`: its signals (any order); `review`: the
    goals' `ReviewStatus` (or None when the case has no agreed goal).
    """
    needing = attention.most_important(signals)
    brief = Brief(last_checkin=last_checkin(series, today))
    brief.signals = [signal.explanation or attention.short_text(signal) for signal in needing]
    if review is not None and (review.due or review.requested):
        brief.goals = review.message
    if needing:
        brief.question = question_for(needing[0])
        brief.question_source = attention.short_text(needing[0])
    return brief
