from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from webapp.claps.services import jobs_adopt


@receiver(user_logged_in, dispatch_uid="jobs-follow-their-owner")
def jobs_follow_their_owner(sender, request, user, **kwargs):
    """Logging in (or signing up, which logs in) keeps the claps made before it."""
    if request is not None and hasattr(request, "session"):
        jobs_adopt(session=request.session, user=user)
