"""What people do in the browser, and the data they find: helpers for the browser tests."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

PASSWORD = "a long test password"
START = dt.date(2026, 1, 5)
ITEMS = ("bond1", "bond2", "goals1", "goals2", "tasks1", "tasks2")
WELLBEING_ITEMS = ("self", "close", "everyday", "overall")
# Browser context options: a laptop screen, and a phone held upright (touch, 390 × 844).
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


# --- what people do in the browser ----------------------------------------------------------

def sign_in(page, who) -> None:
    """Sign in on the login page, as a person does, and land on the role's home page.

    `who` is a StaffMember or an e-mail address; the password is PASSWORD.
    """
    email = who if isinstance(who, str) else who.user.email
    page.goto("/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(cases|clinic/staff)/$"))


def no_sideways_scroll(page) -> bool:
    """True when the page fits the window's width (nothing to scroll sideways)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth")


def images_loaded(page) -> list[str]:
    """The sources of images on the page that did not load (empty when all did)."""
    page.wait_for_load_state("load")
    return page.evaluate("""() => Array.from(document.images)
        .filter(img => img.getClientRects().length && !(img.complete && img.naturalWidth > 0))
        .map(img => img.currentSrc || img.src)""")


@dataclass
class Riverside:
    clinic: object
    admin: object
    supervisor: object
    therapist: object

    def case(self, code: str, ratings, *, then_link: bool = False,
             form: str = "alliance-client"):
        """A case of the therapist: one attended session with the client's alliance
        check-in (all six items at the value) and wellbeing check-in per rating.

        With `then_link`, one more attended session whose client check-in link (for `form`
        and the wellbeing check-in) is issued and not yet answered; returns (case, token)
        instead of case.
        """
        from alliance.web.care import services as care
        from alliance.web.care.models import Session
        from alliance.web.checkins import services as checkins

        case = care.admit_client(self.therapist, code=code, modality="cbt", start_date=START)

        def session():
            number = case.next_session_number()
            return care.record_session(case, date=START + dt.timedelta(days=7 * (number - 1)),
                                       status=Session.Status.ATTENDED)

        for i, value in enumerate(ratings):
            s = session()
            issued = checkins.issue_link(s, "alliance-client", by=self.therapist)
            checkins.submit_link(issued.token, dict.fromkeys(ITEMS, value), {"more_helpful": ""})
            issued = checkins.issue_link(s, "wellbeing", by=self.therapist)
            wellbeing = min(9, 4 + i)  # a client slowly feeling better
            checkins.submit_link(issued.token, dict.fromkeys(WELLBEING_ITEMS, wellbeing), {})
        if not then_link:
            return case
        return case, checkins.issue_link(session(), form, by=self.therapist).token


def scale(page, question: str):
    """The rating scale of one question: a group of radio buttons named by the question."""
    return page.get_by_role("group", name=question, exact=True)


def choose(group, value: int, *, tap: bool = False) -> None:
    """Choose `value` on a rating scale, with a click (or a finger's tap)."""
    option = group.locator(f'input[type=radio][value="{value}"]')
    option.scroll_into_view_if_needed()
    option.tap() if tap else option.check()


def rate_every_question(page, value: int) -> None:
    """Choose `value` on every rating scale of the page (every part of the check-in)."""
    groups = page.locator("fieldset.scale-item")
    for i in range(groups.count()):
        choose(groups.nth(i), value)


def answer_check_in(page, token: str, value: int, text: str = "") -> None:
    """The client opens the link, chooses `value` on every question, writes `text` and
    sends the form."""
    page.goto(f"/c/{token}/")
    rate_every_question(page, value)
    if text:
        page.get_by_role("textbox").fill(text)
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name="Thank you").wait_for()


def wait_for_image(page, image) -> int:
    """Wait until the <img> located by `image` has loaded; its natural width in pixels."""
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=image.element_handle())
    return image.evaluate("img => img.naturalWidth")
