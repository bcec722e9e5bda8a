"""Repair prompts: what a therapist might try when a signal about the alliance opens.

Written by this project, in its own words (docs/design.md section 5): short, practical
suggestions, not a manual and not a script. They are chosen by what the signal says:

- a rupture: the part of the alliance that moved — the bond, the goals or the tasks
  (a merged rupture names the main score in its subject and the other scores that fell
  in ``data["also"]``); a drop in the total alone gets a general prompt;
- a lower alliance rating, a discrepancy (the therapist sees a better alliance than the
  client feels) and signs of disengagement: a prompt of their own;
- how the rupture showed, as the therapist recorded it: withdrawal or confrontation.
  Until the therapist has said, both are offered (disengagement: withdrawal, which it
  often is).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Signal types the repair workflow covers (prompts, "Record what you did", history).
REPAIRABLE = ("rupture", "low_alliance", "discrepancy", "disengagement")

SUBSCALES = ("bond", "goals", "tasks")
MARKERS = ("withdrawal", "confrontation")

PART_NAMES = {"total": "Alliance overall", "bond": "Bond", "goals": "Goals", "tasks": "Tasks"}


@dataclass(frozen=True)
class Prompts:
    """A few suggestions for one situation."""

    key: str
    title: str
    points: tuple[str, ...]


PROMPTS: dict[str, Prompts] = {p.key: p for p in (
    Prompts("bond", "The bond: attend to the relationship", (
        "Put the plan aside for a moment and make room for how the two of you are getting "
        "on; the relationship comes first today.",
        "Say plainly what you noticed, without blame: “Your check-in looked different this "
        "time. I wondered how our last session felt for you.”",
        "Take the reaction seriously. Let the client know it makes sense from where they "
        "stand, even before you fully understand it.",
        "If you can see your own part in it, say so; it makes it easier for the client to "
        "say more.",
        "Ask how the work together feels at the moment, and what would help it feel "
        "better.",
    )),
    Prompts("goals", "Goals: check you still want the same thing", (
        "Go back to what the client wants from therapy now; it may have moved since you "
        "last spoke about it.",
        "Check that each goal still feels like theirs, in their words rather than yours.",
        "Ask what they hoped would be different by now, and talk honestly about what is "
        "realistic and how long it may take.",
        "Agree together what to keep, what to change and what to let go, and write it "
        "down.",
    )),
    Prompts("tasks", "Tasks: adjust what you do together", (
        "Ask which parts of the sessions or of the work between them help, and which feel "
        "pointless or too much.",
        "Explain why you suggested this way of working and how it links to the client's "
        "goals, then invite their doubts.",
        "Offer to change the task, the pace or the style: smaller steps, more time to "
        "talk, a different exercise.",
        "Let the client choose where you can, and check next time how the change felt.",
    )),
    Prompts("total", "The alliance as a whole", (
        "The overall rating fell. Ask openly how the last session, or the work in "
        "general, has been for the client.",
        "Listen for what it is mostly about: how you get on, what you are working towards, "
        "or how you go about it. Then follow that thread.",
        "Thank the client for rating honestly; an honest low rating is what makes repair "
        "possible.",
    )),
    Prompts("withdrawal", "If it shows as withdrawal", (
        "Withdrawal is quiet: short answers, agreeing too quickly, changing the subject, "
        "arriving late or missing sessions.",
        "Name it gently and tentatively, without pressing: “I have a sense something is "
        "holding you back today. Is that right?”",
        "Make disagreement safe: say you would rather hear what is not working than have "
        "the client put up with it.",
        "Go at the client's pace. An invitation they take up next week still counts.",
    )),
    Prompts("confrontation", "If it shows as confrontation", (
        "A complaint about you, the tasks, the pace or the progress is the client telling "
        "you something that matters. Stay curious rather than defending yourself.",
        "Acknowledge the part that is true, even if you see other parts differently.",
        "Ask what they would want instead, and what it is like to say this to you.",
        "Notice your own reaction and slow down. Supervision is a good place to think it "
        "through afterwards.",
    )),
    Prompts("low_alliance", "A lower alliance rating", (
        "A low rating is information, not a verdict. Thank the client for being honest on "
        "the form.",
        "Ask what made the work feel this way this time, and what one thing would make the "
        "next session more useful.",
        "Look at bond, goals and tasks in the check-in to see where to begin.",
        "If low ratings continue, talk together about whether this way of working suits "
        "the client, and take it to supervision.",
    )),
    Prompts("discrepancy", "You may be seeing a better alliance than the client feels", (
        "You rated the work more positively than the client did. Treat the client's view "
        "as the one to learn from.",
        "Hold back from reassuring. Ask what the session was like from their side.",
        "Compare notes on the parts: where might you see the goals or the tasks "
        "differently?",
        "Consider whether something is hard to say out loud in the room; the check-in may "
        "have been the easier place to say it.",
    )),
    Prompts("disengagement", "Signs of drifting away", (
        "Missed sessions, unanswered check-ins or a long gap may mean something in the work "
        "is not fitting, or simply that life got in the way. Find out which.",
        "Reach out warmly and without pressure: say you would like to hear how things are, "
        "with no blame for the missed contact.",
        "When you meet, ask what got in the way, including anything about the sessions "
        "themselves.",
        "Agree together on a rhythm and a way of keeping in touch that suits the client "
        "now.",
    )),
)}


@dataclass(frozen=True)
class Part:
    """One score that fell at a rupture: which, from what, to what."""

    subject: str
    name: str
    reference: float | None
    score: float | None


@dataclass(frozen=True)
class PromptChoice:
    """The prompts for one signal.

    `situation` answers what the signal says (the parts that moved, or the type);
    `markers` how it showed, one set when the therapist has said (`marker_known`), both
    otherwise.
    """

    situation: tuple[Prompts, ...]
    markers: tuple[Prompts, ...]
    marker_known: bool


def moved_parts(signal) -> list[Part]:
    """The scores that fell at a rupture: the signal's own subject first, then the others.

    Empty for other types of signal.
    """
    if signal.type != "rupture":
        return []
    data = signal.data or {}
    parts = [Part(signal.subject or "total", PART_NAMES.get(signal.subject or "total",
                                                            signal.subject),
                  data.get("reference"), data.get("score"))]
    for other in data.get("also") or []:
        subject = str(other.get("subject", ""))
        parts.append(Part(subject, PART_NAMES.get(subject, subject.capitalize()),
                          other.get("reference"), other.get("score")))
    return parts


def prompts_for(signal, *, showed_as: str | None = None) -> PromptChoice | None:
    """The prompts for `signal` (None for a type the repair workflow does not cover).

    Parameters
    ----------
    signal : a `monitoring.Signal` (or anything with ``type``, ``subject``, ``data``).
    showed_as : how the therapist said it showed: "withdrawal", "confrontation", or
        "not_sure"/None (not said).
    """
    if signal.type not in REPAIRABLE:
        return None
    if signal.type == "rupture":
        subjects = [p.subject for p in moved_parts(signal)]
        situation = [PROMPTS[s] for s in subjects if s in SUBSCALES] or [PROMPTS["total"]]
    else:
        situation = [PROMPTS[signal.type]]
    if showed_as in MARKERS:
        markers, known = [PROMPTS[showed_as]], True
    elif signal.type == "disengagement":
        markers, known = [PROMPTS["withdrawal"]], False
    else:
        markers, known = [PROMPTS[m] for m in MARKERS], False
    return PromptChoice(tuple(situation), tuple(markers), known)
