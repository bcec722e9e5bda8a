"""Reliable change and clinically significant change (Jacobson & Truax, 1991).

Scores may be single numbers or arrays (one value per client); array inputs
give array results, so a whole export is classified in one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

#: Two-sided 5% critical value of the standard normal: |RC| above it is reliable change.
CRITICAL_Z = 1.96

IMPROVED = "improved"
DETERIORATED = "deteriorated"
NO_RELIABLE_CHANGE = "no reliable change"

RECOVERED = "recovered"
UNCHANGED = "unchanged"

#: A reliability above this is implausible for a psychological measure (published
#: alphas and test–retest coefficients rarely pass .95), and as reliability nears 1
#: the reliable change index grows without bound: .999999999999 turns a change of
#: 9 points on an SD of 7.5 into an index of about 850 000. Such a value gets a note.
IMPLAUSIBLE_RELIABILITY = 0.99


def _plain(value):
    """Numbers and arrays as JSON-ready Python values."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _scalar_or_array(value):
    value = np.asarray(value)
    return value.item() if value.ndim == 0 else value


def _finite(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number (or an array of numbers), got {value!r}") from None
    if not np.isfinite(array).all():
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return array


def _check_sd(sd, name: str = "sd") -> np.ndarray:
    sd = _finite(name, sd)
    if np.any(sd <= 0):
        raise InputError(f"{name} must be greater than 0, got {_plain(sd)}")
    return sd


def _check_reliability(reliability, *, allow_one: bool = True) -> np.ndarray:
    """Reliability within (0, 1], or (0, 1) when the result would divide by 1 − r."""
    reliability = _finite("reliability", reliability)
    if np.any((reliability <= 0) | (reliability > 1)):
        interval = "(0, 1]" if allow_one else "(0, 1): above 0 and below 1"
        raise InputError(f"reliability must lie in {interval}, got {_plain(reliability)}")
    if not allow_one and np.any(reliability >= 1):
        raise InputError("reliability must lie in (0, 1): above 0 and below 1, got 1; a "
                         "reliability of 1 means no measurement error, so the reliable change "
                         "index is undefined")
    return reliability


def reliability_notes(reliability) -> tuple[str, ...]:
    """Plain-language warnings about a reliability that is valid but implausible.

    Examples
    --------
    >>> reliability_notes(0.85)
    ()
    >>> reliability_notes(0.999999999999)[0][:45]
    'reliability 0.999999999999 is above 0.99, hig'
    """
    values = np.atleast_1d(np.asarray(reliability, dtype=float))
    high = values[values > IMPLAUSIBLE_RELIABILITY]
    if not len(high):
        return ()
    shown = f"{float(high.max()):.12g}"
    return (f"reliability {shown} is above {IMPLAUSIBLE_RELIABILITY:g}, higher than "
            "psychological measures reach; near 1 the measurement error √(1 − r) vanishes and "
            "the index grows without bound, so check the value (a typo, or a coefficient "
            "that is not a reliability?)",)


def standard_error_of_difference(sd, reliability):
    """Standard error of the difference between two scores of one person.

    Parameters
    ----------
    sd : standard deviation of the scores (pre-treatment or a norm sample), > 0.
    reliability : reliability of the measure (e.g. alpha or test–retest), in (0, 1].

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> round(standard_error_of_difference(7.5, 0.85), 4)
    4.1079
    >>> standard_error_of_difference(10, 1.0)
    0.0

    Notes
    -----
    S_E = SD · √(1 − r_xx) is the standard error of measurement; the difference
    of two independent measurement errors has S_diff = √(2 · S_E²)
    = SD · √2 · √(1 − r_xx).

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical
    approach to defining meaningful change in psychotherapy research. Journal of
    Consulting and Clinical Psychology, 59(1), 12–19.
    """
    sd = _check_sd(sd)
    reliability = _check_reliability(reliability)
    return _scalar_or_array(sd * np.sqrt(2.0) * np.sqrt(1.0 - reliability))


@dataclass(frozen=True)
class ReliableChange:
    """Reliable change of one client (scalars) or many (arrays)."""

    pre: float | np.ndarray
    post: float | np.ndarray
    #: post − pre
    change: float | np.ndarray
    #: Reliable change index: change / s_diff.
    rci: float | np.ndarray
    s_diff: float | np.ndarray
    #: |rci| > critical_z
    reliable: bool | np.ndarray
    #: "improved", "deteriorated" or "no reliable change"
    direction: str | np.ndarray
    higher_is_better: bool
    critical_z: float = CRITICAL_Z
    #: Plain-language warnings (an implausibly high reliability).
    notes: tuple[str, ...] = ()

    @property
    def min_reliable_change(self):
        """Smallest change in score points that counts as reliable: critical_z · s_diff."""
        return self.critical_z * self.s_diff

    def to_dict(self) -> dict:
        return {
            "rci": _plain(self.rci),
            "s_diff": _plain(self.s_diff),
            "reliable": _plain(self.reliable),
            "direction": _plain(self.direction),
            "pre": _plain(self.pre),
            "post": _plain(self.post),
            "change": _plain(self.change),
            "min_reliable_change": _plain(self.min_reliable_change),
            "critical_z": self.critical_z,
            "higher_is_better": self.higher_is_better,
            "notes": list(self.notes),
        }


def reliable_change(pre, post, sd, reliability, higher_is_better: bool = True,
                    critical_z: float = CRITICAL_Z) -> ReliableChange:
    """Jacobson–Truax reliable change index: is a change larger than measurement error?

    Parameters
    ----------
    pre, post : score before and after (numbers or arrays of equal shape).
    sd : standard deviation of pre-treatment scores (or of a norm sample), > 0.
    reliability : reliability of the measure, in (0, 1). A reliability of 1
        would leave no measurement error and the index undefined; one above
        0.99 is accepted with a note in ``notes``.
    higher_is_better : direction of the scale (False for symptom measures).
    critical_z : threshold for |RC|, default 1.96 (two-sided p < .05).

    Returns
    -------
    ReliableChange
        ``rci``, ``s_diff``, ``reliable`` and ``direction`` ("improved",
        "deteriorated" or "no reliable change"), plus ``min_reliable_change``,
        the change in score points needed to count as reliable, and ``notes``.

    Examples
    --------
    >>> result = reliable_change(pre=18, post=27, sd=7.5, reliability=0.85)
    >>> round(result.rci, 3), result.reliable, result.direction
    (2.191, True, 'improved')
    >>> round(result.min_reliable_change, 2)
    8.05
    >>> reliable_change(20, 8, 5, 0.84, higher_is_better=False).direction
    'improved'

    Notes
    -----
    S_diff = SD · √2 · √(1 − r_xx); RC = (post − pre) / S_diff; the change is
    reliable when |RC| > 1.96, i.e. unlikely (p < .05) to arise from measurement
    error alone. It is an improvement when it goes in the better direction of
    the scale.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical
    approach to defining meaningful change in psychotherapy research. Journal of
    Consulting and Clinical Psychology, 59(1), 12–19.

    Christensen, L., & Mendoza, J. L. (1986). A method of assessing change in a
    single subject: An alteration of the RC index. Behavior Therapy, 17, 305–308.
    """
    pre_ = _finite("pre", pre)
    post_ = _finite("post", post)
    reliability_ = _check_reliability(reliability, allow_one=False)
    if not critical_z > 0:
        raise InputError(f"critical_z must be greater than 0, got {critical_z}")
    try:
        pre_, post_ = np.broadcast_arrays(pre_, post_)
    except ValueError:
        raise InputError(f"pre and post have different shapes ({np.shape(pre)} and "
                         f"{np.shape(post)})") from None
    s_diff = np.asarray(standard_error_of_difference(sd, reliability_), dtype=float)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        change = post_ - pre_
        rci = change / s_diff
    # Overflow would otherwise end as a missing index (inf or nan) without a word.
    if not np.isfinite(rci).all():
        raise InputError("pre, post and sd are too large (or sd too small) to compute the "
                         "reliable change index")
    reliable = np.abs(rci) > critical_z
    better = change > 0 if higher_is_better else change < 0
    direction = np.where(reliable, np.where(better, IMPROVED, DETERIORATED), NO_RELIABLE_CHANGE)
    return ReliableChange(
        pre=_scalar_or_array(pre_), post=_scalar_or_array(post_),
        change=_scalar_or_array(change), rci=_scalar_or_array(rci),
        s_diff=_scalar_or_array(s_diff), reliable=_scalar_or_array(reliable),
        direction=_scalar_or_array(direction.astype(object)),
        higher_is_better=bool(higher_is_better), critical_z=float(critical_z),
        notes=reliability_notes(reliability_))


@dataclass(frozen=True)
class ClinicalCutoff:
    """A Jacobson–Truax cutoff between the dysfunctional and the functional range."""

    #: The cutoff to use: c when both norms are known, otherwise a or b.
    value: float
    #: Which of "a", "b", "c" ``value`` is.
    criterion: str
    a: float | None
    b: float | None
    c: float | None
    higher_is_better: bool

    def is_functional(self, score):
        """True where a score lies beyond the cutoff, on the functional side."""
        score = np.asarray(score, dtype=float)
        result = score > self.value if self.higher_is_better else score < self.value
        return _scalar_or_array(result)

    def to_dict(self) -> dict:
        return {"cutoff": self.value, "criterion": self.criterion, "a": self.a, "b": self.b,
                "c": self.c, "higher_is_better": self.higher_is_better}


def clinical_cutoff(m0: float | None = None, sd0: float | None = None,
                    m1: float | None = None, sd1: float | None = None,
                    higher_is_better: bool = True) -> ClinicalCutoff:
    """The score that separates the dysfunctional from the functional range.

    Parameters
    ----------
    m0, sd0 : mean and SD of a functional (non-clinical) norm sample.
    m1, sd1 : mean and SD of a dysfunctional (clinical) sample.
    higher_is_better : direction of the scale (False for symptom measures).

    Give one or both pairs; a pair must be complete.

    Returns
    -------
    ClinicalCutoff
        ``value`` with ``criterion`` "c" when both norms are given, "a" with
        only the dysfunctional norm, "b" with only the functional norm; the
        other criteria that can be computed are reported as well.

    Examples
    --------
    >>> cut = clinical_cutoff(m0=30, sd0=6, m1=18, sd1=7.5)
    >>> cut.criterion, round(cut.value, 3)
    ('c', 24.667)
    >>> clinical_cutoff(m1=15, sd1=5, higher_is_better=False).value
    5.0

    Notes
    -----
    With d = +1 when higher scores are better and −1 otherwise:

    - a = M1 + d · 2 · SD1: two SDs beyond the dysfunctional mean, toward functioning;
    - b = M0 − d · 2 · SD0: two SDs short of the functional mean;
    - c = (SD0 · M1 + SD1 · M0) / (SD0 + SD1): the point equally far, in SD
      units, from both means; a score beyond it is more likely to belong to
      the functional than to the dysfunctional distribution.

    Jacobson and Truax recommend c when norms for both populations are known.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical
    approach to defining meaningful change in psychotherapy research. Journal of
    Consulting and Clinical Psychology, 59(1), 12–19.
    """
    functional = _norm_pair("functional", m0, sd0, "m0", "sd0")
    dysfunctional = _norm_pair("dysfunctional", m1, sd1, "m1", "sd1")
    if functional is None and dysfunctional is None:
        raise InputError("a cutoff needs the functional norm (m0, sd0), the dysfunctional "
                         "norm (m1, sd1), or both")
    sign = 1.0 if higher_is_better else -1.0
    a = b = c = None
    if dysfunctional is not None:
        a = dysfunctional[0] + sign * 2.0 * dysfunctional[1]
    if functional is not None:
        b = functional[0] - sign * 2.0 * functional[1]
    if functional is not None and dysfunctional is not None:
        (mean0, spread0), (mean1, spread1) = functional, dysfunctional
        if (mean0 - mean1) * sign <= 0:
            better = "above" if higher_is_better else "below"
            raise InputError(
                f"the functional mean ({mean0:g}) should lie {better} the dysfunctional mean "
                f"({mean1:g}) on a scale where {'higher' if higher_is_better else 'lower'} "
                "scores are better; check the norms or the direction of the scale")
        c = (spread0 * mean1 + spread1 * mean0) / (spread0 + spread1)
        value, criterion = c, "c"
    elif dysfunctional is not None:
        value, criterion = a, "a"
    else:
        value, criterion = b, "b"
    if not all(np.isfinite(x) for x in (a, b, c) if x is not None):
        raise InputError("the norms are too large to compute a cutoff")
    return ClinicalCutoff(value=float(value), criterion=criterion, a=a, b=b, c=c,
                          higher_is_better=bool(higher_is_better))


def _norm_pair(label, mean, sd, mean_name, sd_name):
    if mean is None and sd is None:
        return None
    if mean is None or sd is None:
        missing = mean_name if mean is None else sd_name
        raise InputError(f"the {label} norm needs both {mean_name} and {sd_name}; "
                         f"{missing} is missing")
    mean = float(_finite(mean_name, mean))
    sd = float(_check_sd(sd, sd_name))
    return mean, sd


@dataclass(frozen=True)
class ClinicalSignificance:
    """Jacobson–Truax classification of one client (scalars) or many (arrays)."""

    #: "recovered", "improved", "unchanged" or "deteriorated"
    category: str | np.ndarray
    change: ReliableChange
    cutoff: ClinicalCutoff | float
    criterion: str | None
    #: post lies on the functional side of the cutoff
    post_functional: bool | np.ndarray
    #: pre already lay on the functional side (such a client cannot truly "recover")
    pre_functional: bool | np.ndarray

    def to_dict(self) -> dict:
        cutoff = self.cutoff.value if isinstance(self.cutoff, ClinicalCutoff) else self.cutoff
        return {"category": _plain(self.category), **self.change.to_dict(),
                "cutoff": cutoff, "criterion": self.criterion,
                "pre_functional": _plain(self.pre_functional),
                "post_functional": _plain(self.post_functional)}


def clinically_significant(pre, post, sd, reliability, cutoff: ClinicalCutoff | float,
                           higher_is_better: bool | None = None,
                           critical_z: float = CRITICAL_Z) -> ClinicalSignificance:
    """Classify change as recovered, improved, unchanged or deteriorated.

    Parameters
    ----------
    pre, post : scores before and after (numbers or arrays).
    sd, reliability : as for :func:`reliable_change`.
    cutoff : a :class:`ClinicalCutoff` (from :func:`clinical_cutoff`) or a score.
    higher_is_better : direction of the scale; taken from ``cutoff`` when it is
        a ClinicalCutoff, otherwise True by default.

    Returns
    -------
    ClinicalSignificance
        ``category`` per client, the reliable change, and whether the scores
        before and after lie on the functional side of the cutoff.

    Examples
    --------
    >>> clinically_significant(20, 8, sd=5, reliability=0.84, cutoff=9.44,
    ...                        higher_is_better=False).category
    'recovered'

    Notes
    -----
    Following Jacobson and Truax (1991):

    - recovered: reliable improvement (|RC| > 1.96) and the post score beyond
      the cutoff, on the functional side;
    - improved: reliable improvement without crossing the cutoff;
    - unchanged: no reliable change (whatever side of the cutoff);
    - deteriorated: reliable change in the worse direction.

    A score exactly at the cutoff is not beyond it. ``pre_functional`` marks
    clients who started in the functional range: for them "recovered" only
    says that they improved reliably and ended functional.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical
    approach to defining meaningful change in psychotherapy research. Journal of
    Consulting and Clinical Psychology, 59(1), 12–19.
    """
    if isinstance(cutoff, ClinicalCutoff):
        if higher_is_better is not None and bool(higher_is_better) != cutoff.higher_is_better:
            raise InputError("higher_is_better disagrees with the direction the cutoff was "
                             "computed for")
        higher_is_better = cutoff.higher_is_better
        rule, criterion = cutoff, cutoff.criterion
    else:
        higher_is_better = True if higher_is_better is None else bool(higher_is_better)
        value = float(_finite("cutoff", cutoff))
        rule = ClinicalCutoff(value=value, criterion="given", a=None, b=None, c=None,
                              higher_is_better=higher_is_better)
        criterion = None
    change = reliable_change(pre, post, sd, reliability, higher_is_better=higher_is_better,
                             critical_z=critical_z)
    post_functional = np.asarray(rule.is_functional(change.post))
    pre_functional = np.asarray(rule.is_functional(change.pre))
    direction = np.asarray(change.direction)
    category = np.where(direction == DETERIORATED, DETERIORATED,
                        np.where(direction == IMPROVED,
                                 np.where(post_functional, RECOVERED, IMPROVED), UNCHANGED))
    return ClinicalSignificance(
        category=_scalar_or_array(category.astype(object)), change=change,
        cutoff=cutoff, criterion=criterion,
        post_functional=_scalar_or_array(post_functional),
        pre_functional=_scalar_or_array(pre_functional))
