"""`manage.py check --deploy`: what a production site should not run without."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def metrics_token(app_configs, **kwargs):
    if settings.METRICS_TOKEN:
        return []
    return [
        Warning(
            "METRICS_TOKEN is empty: /metrics answers anyone (job counts, lag, offsets, "
            "and a scrape's queries over the whole job table).",
            hint="Set METRICS_TOKEN (or METRICS_TOKEN_FILE) and give Prometheus the token.",
            id="clapstream.W001",
        )
    ]
