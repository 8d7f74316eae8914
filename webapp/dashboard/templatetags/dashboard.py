from datetime import datetime

from django import template

register = template.Library()


@register.filter
def age(then: datetime | None, now: datetime) -> str:
    """How long before `now`, in seconds, minutes or hours: "12 s", "3 min", "2 h"."""
    if then is None:
        return ""
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"
