from django.apps import AppConfig


class SafetyConfig(AppConfig):
    """Risk answers reach a person at once: the clinic's crisis text for the client, notices
    to the therapist and on-call contacts, a risk signal that needs a recorded response, and
    escalation until one is recorded (docs/safety.md)."""

    name = "alliance.web.safety"
    label = "safety"

    def ready(self) -> None:
        from alliance.web.outreach import jobs, services as outreach
        from alliance.web.outreach.models import Message
        from alliance.web.safety import receivers, services  # noqa: F401 (connects)

        outreach.SENDERS[Message.Kind.RISK] = services.send_notice
        outreach.SENDERS[Message.Kind.ESCALATION] = services.send_notice
        if not any(job.name == services.ESCALATION_JOB for job in jobs.PERIODIC):
            jobs.PERIODIC.append(jobs.Periodic(services.ESCALATION_JOB,
                                               services.ESCALATION_CHECK_EVERY,
                                               services.escalate_due))
