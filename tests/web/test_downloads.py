"""Downloads named after data: one safe Content-Disposition (RFC 6266, RFC 5987), and client
codes limited to a safe alphabet for new clients (the form and the history import)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from alliance.web.care.models import Client, client_code_problem
from alliance.web.downloads import content_disposition
from alliance.web.interop import history


def names(header: str) -> tuple[list[str], str | None]:
    """The plain filename= values and the decoded filename*= of a header."""
    plain = re.findall(r'(?:^|;)\s*filename="([^"]*)"', header)
    extended = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    return plain, unquote(extended.group(1)) if extended else None


def test_a_plain_name_is_given_as_it_is():
    assert content_disposition("case-C-1042.pdf") == 'attachment; filename="case-C-1042.pdf"'


@pytest.mark.parametrize("name, plain, full", [
    ('case-a"; filename="evil.exe.pdf', "case-a_filename_evil.exe.pdf",
     'case-a"; filename="evil.exe.pdf'),
    ("case-A\r\nSet-Cookie: x=1.pdf", "case-ASet-Cookie_x_1.pdf", "case-ASet-Cookie: x=1.pdf"),
    ("case-Ωμέγα-日本.pdf", "case-_-_.pdf", "case-Ωμέγα-日本.pdf"),
    ("case-Zoë.pdf", "case-Zo_.pdf", "case-Zoë.pdf"),
    ("../../etc/passwd", "etc_passwd", "_.._etc_passwd"),
])
def test_an_unsafe_name_gives_one_plain_ascii_name_and_the_full_name_encoded(name, plain, full):
    header = content_disposition(name)
    assert "\r" not in header and "\n" not in header
    header.encode("latin-1")  # what HTTP headers may carry
    plains, extended = names(header)
    assert plains == [plain]
    assert extended == full


@pytest.fixture
def unsafe_case(case):
    # A code stored before the rule (or by another system): downloads must still work.
    Client.objects.filter(pk=case.client_id).update(code='A\r\n"; filename="x.exe Ω')
    case.refresh_from_db()
    return case


@pytest.mark.parametrize("url", ["/cases/{pk}/fhir.json", "/cases/{pk}/report.pdf"])
def test_downloads_of_a_case_with_an_unsafe_code_work_and_name_it_safely(unsafe_case, login,
                                                                         url):
    from django.urls import reverse

    if url.endswith(".pdf"):
        url = reverse("reports:case", args=[unsafe_case.pk])
    else:
        url = url.format(pk=unsafe_case.pk)
    response = login(unsafe_case.therapist).get(url)
    assert response.status_code == 200
    plains, extended = names(response["Content-Disposition"])
    assert len(plains) == 1 and re.fullmatch(r"[A-Za-z0-9._-]+", plains[0])
    assert extended.startswith('case-A"; filename="x.exe Ω')


@pytest.mark.parametrize("code", ["C 1", "C-1\r\n", 'C"1', "Zoë-1", "-C1", ".C1", "C/1",
                                  "=HYPERLINK(1)", "x" * 33, ""])
def test_a_new_client_code_outside_the_safe_alphabet_is_refused(code):
    assert client_code_problem(code)


@pytest.mark.parametrize("code", ["C-1042", "c_7.2", "7", "A" * 32])
def test_safe_client_codes_are_accepted(code):
    assert client_code_problem(code) is None


def test_the_new_client_form_says_which_characters_a_code_may_have(login, therapist):
    response = login(therapist).post("/clients/new/", {
        "code": 'C "1"', "contact_email": "", "modality": "humanistic",
        "start_date": "2026-02-02"})
    assert response.status_code == 200
    assert "use only letters A–Z, digits" in response.content.decode()
    assert not Client.objects.exists()


def test_the_history_import_names_the_line_of_an_unsafe_code(clinic, therapist, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("client,therapist,session,date,instrument,item,value\n"
                    f"Zoë 1,{therapist.user.email},1,2025-03-03,,,\n", encoding="utf-8")
    with pytest.raises(history.HistoryImportError) as caught:
        history.import_history(path, clinic)
    assert "line 2" in str(caught.value) and "not a valid client code" in str(caught.value)
    assert not Client.objects.exists()
