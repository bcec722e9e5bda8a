"""PDF reports: the case report (for the record and for the client) and the clinic report.

The demo clinic (seeded once for the module) gives cases with ruptures, repairs, dismissed
signals, goals and tasks, and three therapists. Every PDF is checked by its text (pypdf),
its layout (no character outside the page's margins, pypdfium2) and rendered to PNG under
test-artifacts/reports/ for people to look at.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest
from django.urls import reverse
from pypdf import PdfReader

from alliance.web import demo
from alliance.web.audit.models import Event
from alliance.web.care.models import Case
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import StaffMember
from alliance.web.dashboards import casepage
from alliance.web.dashboards.text import score
from alliance.web.monitoring.models import RepairAction, Signal
from alliance.web.monitoring.repair import clinic_report as signal_report
from alliance.web.reports import case as case_report
from alliance.web.reports import clinic as clinic_report
from alliance.web.reports import pdf

from demo_clinic import TODAY, clinic, seeded  # noqa: F401 (fixtures)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"


def staff(clinic, email) -> StaffMember:
    return StaffMember.objects.select_related("clinic", "user").get(clinic=clinic,
                                                                   user__username=email)


@pytest.fixture
def worked_case(clinic):
    """A case whose rupture has a repair action with a note, and with goals."""
    action = (RepairAction.objects.filter(signal__case__client__clinic=clinic,
                                          signal__type="rupture").exclude(note="")
              .select_related("signal__case").order_by("signal__case_id").first())
    assert action is not None, "the demo records repair actions with notes"
    case = Case.objects.select_related("client__clinic", "therapist").get(
        pk=action.signal.case_id)
    assert case.goals.exists()
    return case


def dismissed(case) -> Signal:
    """A signal of `case` dismissed with a reason only clinicians should read."""
    # Not a rupture (repaired ones are checked apart) and not a client's comment (listed
    # with the comments, not the signals); by id, so both databases pick the same kind.
    signal = (case.signals.exclude(type__in=["rupture", "client_feedback"]).order_by("pk")
              .first() or case.signals.order_by("pk").first())
    signal.state, signal.dismiss_reason = "dismissed", "Discussed in supervision: a bad week."
    signal.save()
    return signal


def reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in reader(content).pages)


def flat(value: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces (wrapped lines)."""
    return " ".join(value.split())


def save_pages(content: bytes, name: str) -> list[Path]:
    """Each page as a PNG at 110 dpi in test-artifacts/reports/<name>-<n>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(content)
    paths = []
    for number, page in enumerate(document, start=1):
        path = ARTIFACTS / f"{name}-{number}.png"
        page.render(scale=110 / 72).to_pil().save(path)
        paths.append(path)
    (ARTIFACTS / f"{name}.pdf").write_bytes(content)
    return paths


def characters_outside_margins(content: bytes) -> list[str]:
    """Characters whose box leaves the text area (header and footer lines allowed)."""
    document = pypdfium2.PdfDocument(content)
    outside = []
    for number, page in enumerate(document, start=1):
        width, height = page.get_size()
        text = page.get_textpage()
        for i in range(text.count_chars()):
            left, bottom, right, top = text.get_charbox(i)
            if right - left <= 0:
                continue
            if left < pdf.MARGIN_X - 1 or right > width - pdf.MARGIN_X + 1 or bottom < 0 \
                    or top > height:
                outside.append(f"page {number}: {text.get_text_range(i, 1)!r} at {left:.0f}")
    return outside


# --- the case report ---------------------------------------------------------------


def test_the_case_report_for_the_record_has_the_case_page_sentences_charts_signals_and_repairs(
        worked_case):
    signal = dismissed(worked_case)
    report = case_report.load(worked_case, case_report.RECORD, today=TODAY)
    content = case_report.render(report)
    assert content.startswith(b"%PDF")
    words = flat(text_of(content))
    data = casepage.load_case(worked_case)
    summary = casepage.summary(data, own=False)
    assert worked_case.client.code in words and worked_case.client.clinic.name in words
    assert "16 Mar 2026" in words
    for sentence in summary.alliance + summary.wellbeing:
        assert flat(sentence) in words
    assert flat(signal.explanation) in words
    assert "Dismissed because: Discussed in supervision: a bad week." in words
    action = RepairAction.objects.filter(signal__case=worked_case).exclude(note="").first()
    assert flat(action.note) in words
    assert "Ruptures and repair" in words and "Goals and tasks" in words
    assert flat(worked_case.goals.first().text) in words
    assert f"{len(data.sessions)} recorded" in words
    pages = len(reader(content).pages)
    assert f"Page 1 of {pages}" in words and f"Page {pages} of {pages}" in words
    assert characters_outside_margins(content) == []
    assert len(save_pages(content, "case-record")) == pages


def test_the_case_report_draws_both_charts_as_high_resolution_images(worked_case):
    content = case_report.render(case_report.load(worked_case, today=TODAY))
    images = [image for page in reader(content).pages for image in page.images]
    assert len(images) >= 2
    # Drawn at 220 dpi for a width of about 7 inches: crisp in print.
    assert all(image.image.width >= 1500 for image in images[:2])


def test_the_case_report_for_the_client_is_kind_and_leaves_out_clinician_only_content(
        worked_case):
    dismissed(worked_case)
    clinic = worked_case.client.clinic
    clinic.clients_see_alliance_scores = True
    clinic.save()
    content = case_report.render(case_report.load(worked_case, case_report.CLIENT,
                                                  today=TODAY))
    words = flat(text_of(content))
    assert "Our work together" in words and worked_case.client.code in words
    assert f"Prepared for you by {worked_case.therapist.display_name}" in words
    assert "you rated our work together" in words
    assert flat(worked_case.goals.first().text) in words
    for clinical in ("Dismissed because", "a bad week", "Signals", "Rule:", "Possible rupture",
                     "Therapist's rating", "Expected range", "What was done",
                     "In the client's words", "Confidential"):
        assert clinical not in words, clinical
    for action in RepairAction.objects.filter(signal__case=worked_case).exclude(note=""):
        assert flat(action.note) not in words
    save_pages(content, "case-for-client")
    assert characters_outside_margins(content) == []


@pytest.mark.parametrize("allowed", [True, False])
def test_the_client_copy_shows_alliance_ratings_only_when_the_clinic_lets_clients_see_them(
        worked_case, allowed):
    clinic = worked_case.client.clinic
    clinic.clients_see_alliance_scores = allowed
    clinic.save()
    content = case_report.render(case_report.load(worked_case, case_report.CLIENT,
                                                  today=TODAY))
    words = flat(text_of(content))
    for alliance in ("How the work together felt", "you rated our work together",
                     "Moments when the work felt harder"):
        assert (alliance in words) is allowed, alliance
    # The rest of the client's copy is there either way.
    assert "How life is going" in words and flat(worked_case.goals.first().text) in words
    # One image (wellbeing) without the alliance chart, two with it.
    images = [image for page in reader(content).pages for image in page.images]
    assert len(images) == (2 if allowed else 1)


def test_the_therapist_downloads_the_case_report_from_the_case_page_and_it_is_audited(
        worked_case, client):
    client.force_login(worked_case.therapist.user)
    page = client.get(reverse("care:case", args=[worked_case.pk])).content.decode()
    record_url = reverse("reports:case", args=[worked_case.pk])
    client_url = reverse("reports:case_for_client", args=[worked_case.pk])
    assert record_url in page and client_url in page
    before = Event.objects.count()
    response = client.get(client_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="case-{worked_case.client.code}-for-client.pdf"' in \
        response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    event = Event.objects.order_by("-id").first()
    assert Event.objects.count() == before + 1
    assert (event.action, event.target_type, event.target_id) == \
        ("export", "care.case", str(worked_case.pk))
    assert "client" in event.detail and event.actor_id == worked_case.therapist.user_id


def test_an_administrator_gets_no_case_report_and_nothing_is_audited(worked_case, client):
    admin = staff(worked_case.client.clinic, demo.ADMIN_EMAIL)
    client.force_login(admin.user)
    before = Event.objects.filter(action="export").count()
    assert client.get(reverse("reports:case", args=[worked_case.pk])).status_code == 404
    assert Event.objects.filter(action="export").count() == before


# --- the clinic report -------------------------------------------------------------


def test_the_clinic_report_has_the_signal_rates_repair_shares_and_adjusted_therapist_figures(
        clinic):
    admin = staff(clinic, demo.ADMIN_EMAIL)
    report = clinic_report.load(admin, today=TODAY)
    content = clinic_report.render(report)
    words = flat(text_of(content))
    assert "Clinic report" in words and clinic.name in words
    signals = signal_report(admin)
    assert flat(signals.sentences[0]) in words
    for row in signals.rows:
        if row.count:
            # The same numbers as the signals page, through the same formatting.
            marked = " (needs attention)" if row.attention else ""
            # Repair columns as on the page: the counts for kinds repair is recorded for,
            # "—" (does not apply) for the others, never 0 for them.
            repair = (f"{row.with_action} {row.without_action}" if row.repairable
                      else "— —")
            assert f"{row.label}{marked} {row.count} {score(row.per_100)} {repair}" in words
    assert f"Needing attention, all kinds {score(signals.attention_per_100)}" in words
    comparison = report.comparison
    assert comparison is not None and comparison.n_therapists == 3
    for therapist in StaffMember.objects.filter(clinic=clinic, role="therapist"):
        assert therapist.display_name in words
    for effect in comparison.therapists:
        shown = f"{report.names[effect.therapist]} {effect.n_cases}"
        assert shown in words
        assert casepage.text.score(round(effect.adjusted, 2)) in words
    assert "Overlapping intervals are not differences" in words
    assert "Therapists are listed by name, not ranked" in words
    save_pages(content, "clinic")
    assert characters_outside_margins(content) == []


def test_the_clinic_report_compares_therapists_on_intake_adjusted_change_from_core(clinic):
    admin = staff(clinic, demo.ADMIN_EMAIL)
    report = clinic_report.load(admin, today=TODAY)
    usable = report.figures.dropna(subset=["change"])
    assert report.comparison.n_cases == len(usable) > 10
    # The change is last minus first outcome rating, per case with two or more ratings.
    assert (usable["change"] == usable["last"] - usable["intake"]).all()
    assert (usable["n_outcome"] >= 2).all()


def test_a_supervisors_clinic_report_covers_only_their_supervisees(clinic, client):
    supervisor = staff(clinic, demo.LOGINS[1].email)
    supervisees = set(supervisor.supervisees.values_list("display_name", flat=True))
    others = set(StaffMember.objects.filter(clinic=clinic, role="therapist")
                 .exclude(display_name__in=supervisees).values_list("display_name", flat=True))
    assert supervisees and others
    client.force_login(supervisor.user)
    response = client.get(reverse("reports:clinic"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    words = flat(text_of(response.content))
    assert "the therapists you supervise" in words
    assert all(name in words for name in supervisees)
    assert not any(name in words for name in others)
    event = Event.objects.order_by("-id").first()
    assert event.action == "export" and "clinic report" in event.detail
    save_pages(response.content, "clinic-supervisor")


def test_the_clinic_report_says_plainly_when_there_are_too_few_cases_to_compare(other_admin):
    # The administrator of a clinic with no cases yet.
    report = clinic_report.load(other_admin, today=TODAY)
    assert report.comparison is None
    words = flat(text_of(clinic_report.render(report)))
    assert "Too few cases for a comparison of therapists yet" in words
    assert "No check-ins answered yet." in words


def test_the_signals_page_and_the_clinic_pdf_agree_on_dash_and_zero(clinic, client):
    admin = staff(clinic, demo.ADMIN_EMAIL)
    client.force_login(admin.user)
    page = client.get(reverse("monitoring:report"))
    rows = page.context["report"].rows
    assert any(r.repairable for r in rows) and any(not r.repairable for r in rows)
    html = page.content.decode()
    assert "— means repair actions are not recorded" in html
    words = flat(text_of(clinic_report.render(clinic_report.load(admin, today=TODAY))))
    assert "— in the repair columns: repair actions are not recorded" in words


def test_the_navigation_offers_the_clinic_report_to_administrators_and_supervisors(
        clinic, client):
    for email, shown in ((demo.ADMIN_EMAIL, True), (demo.LOGINS[1].email, True),
                         (demo.THERAPIST_EMAILS[0], False)):
        member = staff(clinic, email)
        client.force_login(member.user)
        page = client.get(reverse("care:caseload") if member.can_treat
                          else reverse("clinics:staff")).content.decode()
        assert (reverse("reports:clinic") in page) is shown, email


def test_the_therapist_comparison_of_a_large_clinic_prints_in_parts_on_one_scale():
    """60 therapists: one chart would be taller than a page (reportlab's LayoutError)."""
    import datetime as dt
    import io

    import numpy as np
    import pandas as pd
    from pypdf import PdfReader

    from alliance.core.benchmarking import therapist_effects
    from alliance.web.reports import charts, pdf

    rng = np.random.default_rng(3)
    therapist = np.repeat([f"t{i:02d}" for i in range(60)], 8)
    intake = rng.normal(12, 4, len(therapist))
    effect = np.repeat(rng.normal(0, 1.5, 60), 8)
    data = pd.DataFrame({"therapist": therapist, "intake": intake,
                         "change": 5 - 0.3 * intake + effect + rng.normal(0, 2, len(intake))})
    comparison = therapist_effects(data, outcome="change", covariate="intake")
    names = {f"t{i:02d}": f"Therapist {i}" for i in range(60)}
    parts = charts.caterpillars(comparison, names, xlabel="Adjusted change (points)")
    assert len(parts) == 3  # 24 + 24 + 12
    story = [pdf.figure(p.data, p.width, p.height) for p in parts]
    document = pdf.build(story, pdf.Page(clinic="Large clinic", title="Clinic report",
                                         date=dt.date(2026, 12, 7)))
    assert len(PdfReader(io.BytesIO(document)).pages) >= 2


def test_the_clinic_report_compares_the_alliance_by_session_format_per_client(clinic):
    from alliance.core.category_means import category_means
    from alliance.web.care.models import Session

    # Formats recorded for the demo's sessions: video for every third client, phone for
    # one client's sessions (too few for an estimate), one client's left unrecorded.
    sessions = Session.objects.filter(case__client__clinic=clinic).select_related("case")
    clients = sorted({s.case.client_id for s in sessions})
    phone, unrecorded = clients[0], clients[1]
    for session in sessions:
        client_id = session.case.client_id
        session.format = ("" if client_id == unrecorded else "phone" if client_id == phone
                          else "video" if client_id % 3 == 0 else "in_person")
    Session.objects.bulk_update(sessions, ["format"])

    admin = staff(clinic, demo.ADMIN_EMAIL)
    report = clinic_report.load(admin, today=TODAY)
    rated = clinic_report.session_alliance(clinic_report.scope_cases(admin), report.measures)
    assert report.formats == category_means(rated, "alliance", "format", "client")
    client_rated = Administration.objects.filter(
        session__case__client__clinic=clinic, respondent="client", submitted_at__isnull=False,
        instrument_id=report.measures.client.id)
    for name in ("in_person", "video", "phone"):
        assert report.formats.category(name).n_sessions == client_rated.filter(
            session__format=name).count()
    assert report.formats_unrecorded == client_rated.filter(session__format="").count() > 0
    video, in_person = report.formats.category("video"), report.formats.category("in_person")
    assert video.estimate is not None and in_person.estimate is not None
    assert report.formats.category("phone").estimate is None

    content = clinic_report.render(report)
    words = flat(text_of(content))
    assert characters_outside_margins(content) == []
    save_pages(content, "clinic-formats")
    assert "Alliance by session format" in words
    for item in (video, in_person):
        label = dict(Session.Format.choices)[item.category]
        assert (f"{label} {item.n_sessions} {item.n_clients} {score(item.estimate)} "
                f"{score(item.ci_low)} to {score(item.ci_high)}") in words
    phone_row = report.formats.category("phone")
    assert f"Phone {phone_row.n_sessions} {phone_row.n_clients} too few to estimate" in words
    assert "A format needs at least 10 rated sessions for an estimate" in words
    assert f"{report.formats_unrecorded} rated sessions without a recorded format" in words


def test_the_clinic_report_compares_the_alliance_by_way_of_working_per_client(clinic):
    from alliance.core.category_means import category_means
    from alliance.web.care.models import Case

    admin = staff(clinic, demo.ADMIN_EMAIL)
    report = clinic_report.load(admin, today=TODAY)
    rated = clinic_report.session_alliance(clinic_report.scope_cases(admin), report.measures)
    assert report.modalities == category_means(rated, "alliance", "modality", "client")
    client_rated = Administration.objects.filter(
        session__case__client__clinic=clinic, respondent="client", submitted_at__isnull=False,
        instrument_id=report.measures.client.id)
    estimated = [item for item in report.modalities.categories if item.estimate is not None]
    assert len(estimated) >= 2
    words = flat(text_of(clinic_report.render(report)))
    assert "Alliance by way of working" in words
    for item in report.modalities.categories:
        assert item.n_sessions == client_rated.filter(
            session__case__modality=item.category).count()
    for item in estimated:
        label = dict(Case.Modality.choices)[item.category]
        assert (f"{label} {item.n_sessions} {item.n_clients} {score(item.estimate)} "
                f"{score(item.ci_low)} to {score(item.ci_high)}") in words


def test_the_clinic_report_says_so_when_no_format_is_recorded(clinic):
    report = clinic_report.load(staff(clinic, demo.ADMIN_EMAIL), today=TODAY)
    assert report.formats is None and report.formats_unrecorded > 0
    words = flat(text_of(clinic_report.render(report)))
    assert "Too few client-rated sessions with a recorded format for a comparison yet" in words


def test_a_chart_goes_into_the_pdf_with_its_pixels_unchanged():
    """The charts' PNG (rows unfiltered, RGB) is decoded by Pillow to the pixels drawn, and
    the PDF carries its compressed pixels as they are: a PDF reader gets the same pixels."""
    import datetime as dt

    import numpy as np
    from PIL import Image as PILImage

    from alliance.web.reports import charts

    rng = np.random.default_rng(5)
    pixels = np.full((40, 70, 4), 255, dtype=np.uint8)
    pixels[5:30, 10:50, :3] = rng.integers(0, 256, (25, 40, 3), dtype=np.uint8)
    png = charts.png_rgb(pixels)
    decoded = np.asarray(PILImage.open(io.BytesIO(png)))
    assert decoded.shape == (40, 70, 3)
    assert (decoded == pixels[:, :, :3]).all()

    document = pdf.build([pdf.figure(png, 7.0, 4.0)], pdf.Page(
        clinic="Clinic", title="Clinic report", date=dt.date(2026, 12, 7)))
    [image] = reader(document).pages[0].images
    assert (np.asarray(image.image.convert("RGB")) == pixels[:, :, :3]).all()


def test_a_png_with_transparency_still_prints_as_an_image():
    """Any other PNG (here RGBA from matplotlib) goes through ReportLab's own image."""
    import datetime as dt

    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1))
    figure.add_subplot().plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, transparent=True)
    flowable = pdf.figure(buffer.getvalue(), 2, 1)
    assert isinstance(flowable, pdf.Image)
    document = pdf.build([flowable], pdf.Page(clinic="Clinic", title="Clinic report",
                                              date=dt.date(2026, 12, 7)))
    assert len(reader(document).pages[0].images) == 1


def test_above_the_threshold_the_clinic_report_summarises_the_therapists_comparison(clinic):
    """With more therapists than `summarise_above` (lowered here: the demo has three), one
    chart of the adjusted figures' spread and the counts of intervals wholly above and
    below the clinic mean replace the caterpillar charts; the table stays, by name."""
    admin = staff(clinic, demo.ADMIN_EMAIL)
    report = clinic_report.load(admin, today=TODAY)
    comparison = report.comparison
    summarised = clinic_report.render(report, summarise_above=2)
    words = flat(text_of(summarised))
    assert "rather than a dot per therapist" in words
    assert "Each dot is the change" not in words
    above = sum(t.adjusted_lower > comparison.intercept for t in comparison.therapists)
    below = sum(t.adjusted_upper < comparison.intercept for t in comparison.therapists)
    assert f"of {comparison.n_therapists}" in words
    assert (f"{comparison.n_therapists - above - below} of the {comparison.n_therapists} "
            f"intervals include the clinic mean") in words
    assert ("No therapist of" if above == 0 else f"{above} therapist") in words
    # Still every therapist by name with their figures, in alphabetical order.
    names = sorted(report.names[t.therapist] for t in comparison.therapists)
    positions = [words.index(f"{name} ") for name in names]
    assert positions == sorted(positions)
    for effect in comparison.therapists:
        assert f"{report.names[effect.therapist]} {effect.n_cases}" in words
        assert score(round(effect.adjusted, 2)) in words
    # One chart for the comparison (the two histograms of the distributions before it).
    images = [image for page in reader(summarised).pages for image in page.images]
    full = [image for page in reader(clinic_report.render(report)).pages
            for image in page.images]
    assert len(images) == 3 and len(full) == 2 + 1  # three therapists: one caterpillar part
    save_pages(summarised, "clinic-summarised")
    assert characters_outside_margins(summarised) == []


def test_at_or_below_the_threshold_the_clinic_report_draws_a_dot_per_therapist(clinic):
    admin = staff(clinic, demo.ADMIN_EMAIL)
    report = clinic_report.load(admin, today=TODAY)
    assert report.comparison.n_therapists <= clinic_report.SUMMARISE_ABOVE
    at_threshold = clinic_report.render(report, summarise_above=report.comparison.n_therapists)
    default = clinic_report.render(report)
    # The same text and images (the PDF's bytes differ by its creation time and id).
    words = flat(text_of(at_threshold))
    assert words == flat(text_of(default))
    assert ([image.data for page in reader(at_threshold).pages for image in page.images]
            == [image.data for page in reader(default).pages for image in page.images])
    assert "Each dot is the change" in words and "rather than a dot per therapist" not in words


def test_therapist_names_with_markup_or_dollar_signs_print_as_written(clinic):
    """Names are the staff's own: "<", "&" and "$" pairs (matplotlib's mathematics, which
    stopped the report on "$\\frac{1$") print as typed, in the chart and the table."""
    admin = staff(clinic, demo.ADMIN_EMAIL)
    report = clinic_report.load(admin, today=TODAY)
    written = ["Ann <b>&amp; Bo</b>", "Zoë $\\frac{1$ Ñ", "Mai $x$ Li"]
    for i, key in enumerate(sorted(report.names)):
        report.names[key] = written[i % len(written)]
    words = flat(text_of(clinic_report.render(report)))
    for effect in report.comparison.therapists:
        assert report.names[effect.therapist] in words
