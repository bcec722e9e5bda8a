from django.apps import AppConfig


class InteropConfig(AppConfig):
    """FHIR Bundles of a case, imports of history from another system, research exports."""

    name = "alliance.web.interop"
    label = "interop"

    def ready(self) -> None:
        from alliance.web.interop import exports
        from alliance.web.outreach import jobs

        if not any(job.name == exports.EXPIRY_JOB for job in jobs.PERIODIC):
            jobs.PERIODIC.append(jobs.Periodic(exports.EXPIRY_JOB, exports.EXPIRY_EVERY,
                                               exports.expire))
