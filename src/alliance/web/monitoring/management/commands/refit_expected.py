"""Refit each clinic's expected treatment response and pooled SDs, then recompute signals.

    alliance manage refit_expected               # every clinic
    alliance manage refit_expected --clinic 3    # one clinic
"""

from django.core.management.base import BaseCommand, CommandError

from alliance.web.clinics.models import Clinic
from alliance.web.monitoring import recompute


class Command(BaseCommand):
    help = ("Refit the expected treatment response on each clinic's closed cases, refresh its "
            "pooled within-client SDs, and recompute the signals of its active cases. "
            "Example: alliance manage refit_expected --clinic 1")

    def add_arguments(self, parser):
        parser.add_argument("--clinic", type=int, help="only this clinic (its id)")

    def handle(self, *args, clinic=None, **options):
        clinics = Clinic.objects.order_by("pk")
        if clinic is not None:
            clinics = clinics.filter(pk=clinic)
            if not clinics.exists():
                raise CommandError(f"There is no clinic with id {clinic}.")
        for item in clinics:
            status, result = recompute.refresh_clinic(item)
            self.stdout.write(f"{item.name}: {status.message} Signals of {result.cases} active "
                              f"case(s): {result.created} new, {result.updated} updated, "
                              f"{result.removed} removed.")
