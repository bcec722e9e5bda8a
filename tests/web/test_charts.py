"""Charts drawn by matplotlib as SVG: valid, with the expected series, scoped, not cached."""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading
import xml.etree.ElementTree as ET

import pytest
from dashboard_data import START, add_sessions

from alliance.web.care import services as care
from alliance.web.dashboards import charts
from alliance.web.dashboards.series import CaseSeries, SessionScores

SVG = "{http://www.w3.org/2000/svg}"


def series(rows) -> CaseSeries:
    """A series from (status, alliance, bond, goals, tasks, therapist, wellbeing) rows."""
    sessions = []
    for number, row in enumerate(rows, start=1):
        status, *values = row
        s = SessionScores(number=number, date=START + dt.timedelta(weeks=number - 1),
                          status=status)
        for name, value in zip(("alliance", "bond", "goals", "tasks", "therapist",
                                "wellbeing"), values):
            setattr(s, name, value)
        sessions.append(s)
    return CaseSeries(sessions)


ROWS = [("attended", 6.0, 6.0, 6.0, 6.0, 7.0, 4.0),
        ("attended", 7.0, 7.5, 6.5, 7.0, 7.5, 4.5),
        ("no_show", None, None, None, None, None, None),
        ("attended", 5.0, 4.0, 5.5, 5.5, 7.0, 5.0),
        ("attended", 7.5, 8.0, 7.0, 7.5, 7.5, 5.5)]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def group(root: ET.Element, gid: str) -> ET.Element | None:
    return next((g for g in root.iter(f"{SVG}g") if g.get("id") == gid), None)


def vertices(root: ET.Element, gid: str) -> list[tuple[float, float]]:
    """The (x, y) points of the line drawn in the group `gid`."""
    path = group(root, gid).find(f"{SVG}path")
    return [(float(x), float(y)) for x, y in re.findall(r"[ML] ([-\d.]+) ([-\d.]+)",
                                                        path.get("d"))]


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.text]


def test_the_alliance_chart_is_valid_svg_with_every_series_and_the_ruptures():
    data = series(ROWS)
    data.sessions[3].ruptures = ["bond"]
    root = parse(charts.alliance_chart(data))
    labels = texts(root)
    for label in ("Alliance (client)", "Bond", "Goals", "Tasks", "Therapist's rating",
                  "Possible rupture", "Missed or cancelled", "Session", "Score (0–10)"):
        assert label in labels
    # One point per rated session (session 3 was missed), left to right.
    points = vertices(root, "series-alliance")
    assert len(points) == 4
    assert [x for x, _ in points] == sorted(x for x, _ in points)
    # SVG y grows downwards: the highest score (7.5, session 5) is drawn highest, the
    # lowest (5, session 4) lowest.
    ys = [y for _, y in points]
    assert ys.index(min(ys)) == 3 and ys.index(max(ys)) == 2
    assert group(root, "ruptures") is not None and group(root, "ruptures-repaired") is None
    assert group(root, "missed") is not None
    # Whole numbers 0–10 on the score axis.
    assert {"0", "2", "4", "6", "8", "10"} <= set(labels)


def test_a_repaired_rupture_is_drawn_open_and_named_in_the_legend():
    data = series(ROWS)
    data.sessions[3].ruptures = ["total"]
    data.sessions[3].repaired = ["alliance"]
    root = parse(charts.alliance_chart(data))
    assert group(root, "ruptures-repaired") is not None and group(root, "ruptures") is None
    assert "Rupture, repaired" in texts(root)
    assert data.sessions[3].rupture_note == "Possible rupture (alliance); repaired"


def test_the_wellbeing_chart_shades_the_expected_range_only_when_there_is_one():
    data = series(ROWS)
    data.sessions[1].below_expected = True
    band = charts.BandSeries(sessions=[2, 3, 4, 5], lower=[4.6, 4.8, 5.0, 5.1],
                             expected=[5.5, 5.7, 5.9, 6.0], upper=[6.4, 6.6, 6.8, 6.9],
                             coverage=0.8)
    with_band = parse(charts.wellbeing_chart(data, band))
    assert group(with_band, "expected-range") is not None
    assert group(with_band, "expected-course") is not None
    assert group(with_band, "outside-expected") is not None
    assert "Expected range (80% of similar clients)" in texts(with_band)
    assert len(vertices(with_band, "series-wellbeing")) == 4
    without = parse(charts.wellbeing_chart(data, None))
    assert group(without, "expected-range") is None
    assert "Wellbeing" in texts(without)


def legend_reading_order(root: ET.Element) -> list[list[str]]:
    """The legend's labels as people read them: row by row (by y), left to right."""
    legend = group(root, "legend_1")
    cells = sorted((round(float(t.get("y"))), float(t.get("x")), t.text)
                   for t in legend.iter(f"{SVG}text"))
    rows: dict[int, list[str]] = {}
    for y, _, text in cells:
        rows.setdefault(y, []).append(text)
    return list(rows.values())


def test_chart_legends_read_row_by_row_in_the_order_of_the_series():
    data = series(ROWS)
    data.sessions[3].ruptures = ["bond"]
    # 7 entries in 4 columns (wide), 2 columns (narrow): matplotlib fills columns first.
    assert legend_reading_order(parse(charts.alliance_chart(data))) == [
        ["Alliance (client)", "Bond", "Goals", "Tasks"],
        ["Therapist's rating", "Possible rupture", "Missed or cancelled"]]
    assert legend_reading_order(parse(charts.alliance_chart(data, narrow=True))) == [
        ["Alliance (client)", "Bond"], ["Goals", "Tasks"],
        ["Therapist's rating", "Possible rupture"], ["Missed or cancelled"]]
    band = charts.BandSeries(sessions=[2, 3], lower=[4.6, 4.8], expected=[5.5, 5.7],
                             upper=[6.4, 6.6], coverage=0.8)
    data.sessions[1].below_expected = True
    assert legend_reading_order(parse(charts.wellbeing_chart(data, band))) == [
        ["Wellbeing", "Expected range (80% of similar clients)", "Expected course"],
        ["Outside the expected range", "Missed or cancelled"]]
    assert charts.row_wise(list("abcdefg"), 4) == list("aebfcgd")
    assert charts.row_wise(list("ab"), 4) == list("ab")


def test_an_empty_case_gets_a_chart_that_says_so():
    data = series([("attended", None, None, None, None, None, None)])
    assert "No alliance check-ins answered yet" in texts(parse(charts.alliance_chart(data)))
    assert "No wellbeing check-ins answered yet" in texts(parse(charts.wellbeing_chart(data)))


def test_the_narrow_variant_is_narrower_and_charts_are_reproducible():
    data = series(ROWS)
    wide, narrow = charts.alliance_chart(data), charts.alliance_chart(data, narrow=True)
    assert float(parse(narrow).get("width").rstrip("pt")) < \
        float(parse(wide).get("width").rstrip("pt"))
    assert charts.alliance_chart(data) == wide
    assert "<script" not in wide and "<script" not in narrow
    assert "Date" not in wide and "<metadata" not in wide


def test_sparklines_are_small_svgs_as_data_uris_and_safe_across_threads():
    svg = charts.sparkline("alliance", [3, 4, 5, 6], [6.0, None, 7.0, 7.5])
    root = parse(svg)
    assert float(root.get("width").rstrip("pt")) < 100
    assert len(vertices(root, "sparkline")) == 3   # the rated sessions only
    uri = charts.data_uri(svg)
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == svg
    with pytest.raises(ValueError):
        charts.sparkline("bond", [1], [5.0])
    # Each thread draws on its own figure: many threads at once give the serial result.
    inputs = [("alliance" if i % 2 else "wellbeing", list(range(1, 6)),
               [float((i * k) % 11) for k in range(5)]) for i in range(24)]
    charts._sparkline.cache_clear()
    expected = [charts.sparkline(*args) for args in inputs]
    charts._sparkline.cache_clear()
    results = [None] * len(inputs)

    def draw(i):
        results[i] = charts.sparkline(*inputs[i])

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == expected


# --------------------------------------------------------------------------- the URLs

@pytest.fixture
def rated_case(therapist):
    case = care.admit_client(therapist, code="C-CHART", modality="cbt", start_date=START)
    add_sessions(case, [{"alliance": (7, 6, 7), "therapist": (8, 8, 8), "wellbeing": 4.5},
                        {"alliance": (8, 7, 7.5), "wellbeing": 5.0}])
    return case


@pytest.mark.parametrize("chart", ["alliance", "wellbeing"])
def test_a_case_chart_is_served_as_svg_never_cached(login, therapist, rated_case, chart):
    response = login(therapist).get(f"/cases/{rated_case.pk}/charts/{chart}.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Cache-Control"] == "private, no-store"
    # The image's own policy: matplotlib's inline styles, nothing else.
    assert response["Content-Security-Policy"] == \
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    root = parse(response.content.decode())
    gid = "series-alliance" if chart == "alliance" else "series-wellbeing"
    assert len(vertices(root, gid)) == 2
    narrow = login(therapist).get(f"/cases/{rated_case.pk}/charts/{chart}.svg?size=narrow")
    assert narrow.status_code == 200 and narrow.content != response.content


@pytest.mark.parametrize("role", ["other_therapist", "admin", "other_admin",
                                  "other_clinic_therapist"])
def test_a_chart_out_of_scope_is_not_found(login, rated_case, role, request):
    client = login(request.getfixturevalue(role))
    for chart in ("alliance", "wellbeing"):
        assert client.get(f"/cases/{rated_case.pk}/charts/{chart}.svg").status_code == 404
    assert client.get("/cases/999999/charts/alliance.svg").status_code == 404


def test_a_supervisor_sees_the_supervisees_chart_and_anonymous_users_are_sent_to_log_in(
        login, supervisor, rated_case, client):
    assert login(supervisor).get(f"/cases/{rated_case.pk}/charts/alliance.svg")\
        .status_code == 200
    client.logout()
    response = client.get(f"/cases/{rated_case.pk}/charts/alliance.svg")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
