"""The translation catalogues of the client's side: which files hold text a client reads,
extracting it, keeping the catalogues up to date, compiling them, and checking them.

    python -m alliance.web.catalogues update    # new and changed text into every .po
    python -m alliance.web.catalogues compile   # every .po into its .mo (committed too)
    python -m alliance.web.catalogues check     # what is missing, fuzzy or stale

The catalogues live in src/alliance/web/locale/<language>/LC_MESSAGES/django.po, with the
compiled django.mo beside each, so that a fresh machine needs neither GNU gettext nor a
build step (docs/languages.md). Extraction reads Django templates through Django's own
`templatize` (what `makemessages` hands to xgettext) and Python files with Babel, so it
needs no xgettext either. Babel is a test dependency: nothing here runs in production.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
LOCALE_DIR = WEB_DIR / "locale"
#: The shipped translations (English is the source language).
LANGUAGES = ("es", "fr", "de", "pt", "ar")

#: Every file with text a client reads: the check-in and its pages, the portal, the
#: client's e-mails and the base template's chrome of those pages. Staff pages are not
#: translated; a new client-facing file is added here.
CLIENT_FACING = (
    "templates/base.html",
    "templates/public_base.html",
    "templates/includes/language_switcher.html",
    "templates/403_csrf.html",
    "templates/404.html",
    "checkins/templates/checkins/form.html",
    "checkins/templates/checkins/includes/fields.html",
    "checkins/templates/checkins/thanks.html",
    "checkins/templates/checkins/link_expired.html",
    "checkins/templates/checkins/link_not_found.html",
    "checkins/templates/checkins/link_used.html",
    "checkins/forms.py",
    "goals/templates/goals/checkin_fields.html",
    "goals/checkin.py",
    "goals/services.py",
    "goals/models.py",
    "intake/templates/intake/checkin_fields.html",
    "intake/templates/intake/includes/choice_field.html",
    "intake/templates/intake/includes/text_field.html",
    "intake/forms.py",
    "intake/models.py",
    "safety/templates/safety/includes/crisis.html",
    "portal/templates/portal/base.html",
    "portal/templates/portal/feedback.html",
    "portal/templates/portal/goal_new.html",
    "portal/templates/portal/goals.html",
    "portal/templates/portal/home.html",
    "portal/templates/portal/intake.html",
    "portal/templates/portal/link_expired.html",
    "portal/templates/portal/link_not_found.html",
    "portal/templates/portal/password.html",
    "portal/templates/portal/progress.html",
    "portal/templates/portal/set_password.html",
    "portal/templates/portal/sign_in.html",
    "portal/templates/portal/sign_in_link.html",
    "portal/templates/portal/sign_in_sent.html",
    "portal/templates/portal/task_report.html",
    "portal/templates/portal/includes/goal_list.html",
    "portal/templates/portal/tables/alliance.html",
    "portal/templates/portal/tables/wellbeing.html",
    "portal/templates/portal/email/invitation.txt",
    "portal/templates/portal/email/sign_in_link.txt",
    "portal/forms.py",
    "portal/goals.py",
    "portal/progress.py",
    "portal/services.py",
    "portal/views.py",
    "outreach/templates/outreach/email/checkin.html",
    "outreach/templates/outreach/email/checkin.txt",
    "outreach/services.py",
)

# Django's translation functions, as Babel's extractor names them.
_KEYWORDS = {
    "_": None, "gettext": None, "gettext_lazy": None, "gettext_noop": None,
    "ngettext": (1, 2), "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2), "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3), "npgettext_lazy": ((1, "c"), 2, 3),
}


@dataclass(frozen=True)
class Problem:
    language: str
    msgid: str
    problem: str  # "missing", "empty", "fuzzy", "stale" or "not compiled"

    def __str__(self) -> str:
        return f"{self.language}: {self.problem}: {self.msgid!r}"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "django.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def extract():
    """The client-facing messages as a Babel catalogue (msgids and where they are used)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_python
    from django.utils.translation.template import templatize

    catalog = Catalog(project="Alliance", charset="utf-8")
    for name in CLIENT_FACING:
        path = WEB_DIR / name
        source = path.read_text(encoding="utf-8")
        if path.suffix != ".py":
            source = templatize(source, origin=str(path))
        for line, function, message, _comments in extract_python(
                io.BytesIO(source.encode("utf-8")), _KEYWORDS, [], {"encoding": "utf-8"}):
            context = None
            if isinstance(message, tuple) and function.startswith(("pgettext", "npgettext")):
                context, message = message[0], message[1:] if len(message) > 2 else message[1]
            if not message or (isinstance(message, tuple) and not all(message)):
                continue
            catalog.add(message, locations=[(name, line)], context=context,
                        flags=["python-format"] if _formatted(message) else [])
    return catalog


def _formatted(message) -> bool:
    texts = message if isinstance(message, tuple) else (message,)
    return any("%(" in text for text in texts)


def read(language: str):
    from babel.messages.pofile import read_po

    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain="django")


def update(languages=LANGUAGES) -> None:
    """Bring every catalogue up to the extracted messages: new ones are added untranslated,
    translations of unchanged ones are kept, messages no longer used are dropped."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    template = extract()
    for language in languages:
        path = po_path(language)
        catalog = read(language) if path.exists() else Catalog(locale=language,
                                                               project="Alliance")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        catalog.project, catalog.version = "Alliance", ""
        catalog.msgid_bugs_address = ""
        catalog.copyright_holder = "the Alliance project"
        catalog.last_translator = "the Alliance project"
        catalog.language_team = "the Alliance project"
        catalog.header_comment = (
            f"# {language} translation of the client's side of Alliance, written by the\n"
            "# project (not yet validated: see docs/languages.md).\n"
            "# Same licence as Alliance (AGPL-3.0-or-later).")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=99, sort_output=False, include_previous=False)


def compile_all(languages=LANGUAGES) -> None:
    """Compile each .po into its .mo (untranslated and fuzzy messages left out)."""
    from babel.messages.mofile import write_mo

    for language in languages:
        with mo_path(language).open("wb") as handle:
            write_mo(handle, read(language), use_fuzzy=False)


def translations(language: str) -> dict[tuple[str | None, str], str]:
    """(context, msgid) → msgstr of a .po file, translated and not fuzzy only (plural
    messages by their singular, with the first form)."""
    result = {}
    for message in read(language):
        if not message.id or message.fuzzy:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        text = message.string[0] if isinstance(message.string, tuple) else message.string
        if text:
            result[(message.context, msgid)] = text
    return result


def compiled(language: str) -> dict[tuple[str | None, str], str]:
    """(context, msgid) → msgstr as the committed .mo holds them (read with the standard
    library's gettext, as Django reads it)."""
    import gettext

    with mo_path(language).open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001 - the plain mapping
    result = {}
    for key, text in catalog.items():
        if isinstance(key, tuple):  # a plural form: (msgid, n)
            if key[1] != 0:
                continue
            key = key[0]
        if key == "":
            continue  # the header
        context, _, msgid = key.rpartition("\x04")
        result[(context or None, msgid)] = text
    return result


def check(languages=LANGUAGES) -> list[Problem]:
    """Every problem of the shipped catalogues: a client-facing message without a
    translation (missing, empty or fuzzy), a translated message no longer used (stale),
    and a .mo that is not what its .po compiles to."""
    wanted = {(m.context, m.id[0] if isinstance(m.id, tuple) else m.id)
              for m in extract() if m.id}
    problems = []
    for language in languages:
        entries = {}
        for message in read(language):
            if message.id:
                msgid = message.id[0] if isinstance(message.id, tuple) else message.id
                entries[(message.context, msgid)] = message
        for key in sorted(wanted, key=lambda k: (k[0] or "", k[1])):
            message = entries.get(key)
            if message is None:
                problems.append(Problem(language, key[1], "missing"))
            elif message.fuzzy:
                problems.append(Problem(language, key[1], "fuzzy"))
            elif not all(message.string if isinstance(message.string, tuple)
                         else [message.string]):
                problems.append(Problem(language, key[1], "empty"))
        for key in sorted(set(entries) - wanted, key=lambda k: (k[0] or "", k[1])):
            problems.append(Problem(language, key[1], "stale"))
        if not mo_path(language).exists() or compiled(language) != translations(language):
            problems.append(Problem(language, str(mo_path(language).name), "not compiled"))
    return problems


def main(argv: list[str]) -> int:
    import django

    if len(argv) != 1 or argv[0] not in ("update", "compile", "check"):
        print("usage: python -m alliance.web.catalogues update|compile|check", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.web.test_settings")
    django.setup()
    if argv[0] == "update":
        update()
    elif argv[0] == "compile":
        compile_all()
    else:
        problems = check()
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
