"""Benchmark of free text encrypted at rest: the cost per value, and on loading signals.

1. Encrypting and decrypting one 300-character text (a goal's maximum length), and
   decrypting with the key second in the list (during a rotation): the median of 5 runs of
   N values each.
2. Loading N signals of one case through the ORM with their encrypted fields (explanation,
   data, dismissal reason) against the same query with those fields deferred: the ratio is
   what decryption adds to a list of signals.

Results are printed as JSON; docs/privacy.md records a run. A throwaway test database
(SQLite in the temporary folder; set DATABASE_URL for PostgreSQL):

    .venv/bin/python benchmarks/encryption.py --values 20000 --signals 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time


def timed(function, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=20000)
    parser.add_argument("--signals", type=int, default=1000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.web.test_settings")
    import django

    django.setup()
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.db import connection
    from django.test.utils import override_settings

    from alliance.web import crypto

    text = "x" * 300
    tokens = [crypto.encrypt(text) for _ in range(args.values)]
    per_value = {
        "encrypt_us": timed(lambda: [crypto.encrypt(text) for _ in range(args.values)]),
        "decrypt_us": timed(lambda: [crypto.decrypt(t) for t in tokens]),
    }
    with override_settings(ENCRYPTION_KEYS=[Fernet.generate_key().decode(),
                                            *settings.ENCRYPTION_KEYS]):
        per_value["decrypt_old_key_second_us"] = timed(
            lambda: [crypto.decrypt(t) for t in tokens])
    per_value = {k: round(v / args.values * 1e6, 1) for k, v in per_value.items()}

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from alliance.web.care import services as care
        from alliance.web.clinics.models import Clinic, StaffMember
        from alliance.web.monitoring.models import Signal

        clinic = Clinic.objects.create(name="Benchmark")
        user = django.contrib.auth.get_user_model().objects.create_user("t@example.org")
        therapist = StaffMember.objects.create(user=user, clinic=clinic, role="therapist",
                                               display_name="T")
        case = care.admit_client(therapist, code="C-1", modality="cbt")
        Signal.objects.bulk_create(
            Signal(case=case, type="client_feedback", subject=f"portal:{i}", rule="open_answer",
                   data={"text": text, "written_on": "2026-01-05"},
                   explanation="On 5 January 2026 the client wrote to you in the client portal.")
            for i in range(args.signals))
        encrypted = timed(lambda: list(Signal.objects.filter(case=case)))
        deferred = timed(lambda: list(Signal.objects.filter(case=case)
                                      .defer("explanation", "data", "dismiss_reason")))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(json.dumps({
        "machine": {"processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "python": platform.python_version(),
                    "database": connection.vendor},
        "per_value_300_chars": per_value,
        "token_length_300_chars": len(tokens[0]),
        "load_signals": {"n": args.signals, "with_encrypted_fields_ms": round(encrypted * 1e3, 1),
                         "encrypted_fields_deferred_ms": round(deferred * 1e3, 1),
                         "ratio": round(encrypted / deferred, 2)},
    }, indent=2))


if __name__ == "__main__":
    main()
