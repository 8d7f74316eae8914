from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete
from django.dispatch import receiver

from webapp.claps.owners import user_owner
from webapp.claps.retention import delete_jobs_of
from webapp.claps.services import jobs_adopt


@receiver(user_logged_in, dispatch_uid="jobs-follow-their-owner")
def jobs_follow_their_owner(sender, request, user, **kwargs):
    """Logging in (or signing up, which logs in) keeps the claps made before it."""
    if request is not None and hasattr(request, "session"):
        jobs_adopt(session=request.session, user=user)


@receiver(post_delete, sender=User, dispatch_uid="jobs-go-with-their-owner")
def jobs_go_with_their_owner(sender, instance, using, **kwargs):
    """However a user is deleted (the account page, the admin, a script), their jobs
    go too: owners are strings, not foreign keys, so nothing else would remove them."""
    delete_jobs_of(user_owner(instance), using=using)
