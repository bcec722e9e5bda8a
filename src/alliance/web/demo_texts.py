"""Open-text answers for the demo clinic, in the words clients and therapists use.

Written by this project for the demo. Clients answer "What would make our work together
more helpful for you?"; therapists "What could you try to make the work more helpful for
this client?". Rupture answers are sorted by the part of the alliance that dropped, and
show both faces of a rupture: withdrawal (going quiet, deferring) and confrontation
(complaints about the therapist, the tasks, the pace or the aims).
"""

from __future__ import annotations

# Most sessions: appreciation, wishes, small suggestions.
CLIENT_EVERYDAY = (
    "Nothing to change. Today really helped.",
    "It helped to go over last week slowly. More of that, please.",
    "I liked that we wrote the plan down together.",
    "Keep reminding me of the small steps. It helps.",
    "Talking about my sister was hard, but good.",
    "A few minutes at the end to sum up what we covered would help me remember.",
    "Could we spend more time on sleep? It is the main thing for me right now.",
    "I'd like to practise the breathing exercise together before trying it at home.",
    "Checking in about work at the start helps me settle.",
    "I want to talk more about my dad next time.",
    "Sometimes I need a minute before I answer. Thank you for waiting.",
    "Could you send me the notes on the thought record? I lost mine.",
    "I felt a bit lighter walking out today.",
    "It would help to know what we will focus on next week.",
    "More examples from everyday life, please. The theory is harder to hold on to.",
    "I'd like to bring my partner along once, if that is possible.",
    "The evening slot works much better for me.",
    "I'm starting to notice the patterns we talked about.",
    "Maybe a short check at the start on how the week went with the exercises.",
    "I'd like to look at what happens when I get angry with the kids.",
    "It's good that we go back to the goals every few weeks.",
    "Fine as it is. I feel I can say things here.",
)

# The session of a rupture, by the part of the alliance that dropped most.
CLIENT_RUPTURE = {
    "bond": (
        "I didn't feel listened to today. I'm not sure why.",
        "It felt rushed, like there was no room for what I came in with.",
        "I felt a bit judged when we talked about my drinking.",
        "I'm not sure you understood what I meant about my partner.",
        "I found it hard to talk today.",
        "Don't know.",
        "I'm tired. Maybe next time.",
        "It felt like you had already made up your mind about me.",
    ),
    "goals": (
        "I'm not sure what we are working towards any more.",
        "I came for help with panic and we keep talking about my childhood.",
        "Could we look at the goals again? They don't feel like mine.",
        "It feels like we are going in circles.",
        "I don't know what I want from this right now.",
        "I'd like to focus on getting back to work, not on the past.",
    ),
    "tasks": (
        "The homework doesn't fit my week. Could we find something smaller?",
        "The worksheets feel a bit like school.",
        "We're going too fast for me.",
        "I don't see how the exposure exercises help yet.",
        "I'd rather just talk than do exercises today.",
        "The diary makes me feel worse when I skip a day.",
    ),
}

# The session at which a rupture was repaired.
CLIENT_REPAIRED = (
    "Thank you for asking about last time. It helped to clear the air.",
    "Better today. I felt heard.",
    "Glad we changed the homework. It's more doable now.",
    "It helped that we talked about what went wrong last week.",
    "Having the goals written down again makes it clearer.",
    "I appreciated that you slowed down.",
)

# The therapist's own form: what to try next.
THERAPIST_EVERYDAY = (
    "Keep the structure; summarise together at the end.",
    "Bring in the sleep diary and review it together.",
    "Ask which exercise felt most useful this week.",
    "Review the goals next session; it has been a while.",
    "Leave more room at the start for what they bring.",
    "Try a short grounding exercise before the harder topics.",
    "Check whether the pace still suits them.",
    "Explore the relationship with their father a little further.",
)

THERAPIST_RUPTURE = (
    "Name the tension from today and ask how the session felt for them.",
    "Slow down, and check whether the homework fits their week.",
    "Revisit the goals together and ask what they want to focus on.",
    "Ask directly how the last session landed; apologise for rushing.",
    "Explain the rationale for the exposure work again, and ask what would fit better.",
    "Invite their view of how we work together, and take it seriously.",
    "They were quiet today; check in gently at the start about what changed.",
)

# Why a therapist dismissed a signal (the reason is required).
DISMISS_REASONS = (
    "We talked it through in the session: it was a hard week at work, not our work together.",
    "Discussed in supervision; we agreed to keep an eye on it rather than act now.",
    "The client had bad news that morning; we spent the session on it.",
    "A one-off: the session was moved at short notice and felt rushed for both of us.",
    "The client told me they rate low when they are tired; the next session was fine.",
)
