"""Sign-up, login, password reset and the account page (API tokens, deletion).

Django's auth views do the work; these add the attempt limits, the site's templates
and what an account owns (tokens, jobs)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import CreateView

from webapp.accounts import services, tokens
from webapp.accounts.forms import (
    DeleteAccountForm,
    LoginForm,
    NewPasswordForm,
    ResetForm,
    SignUpForm,
    TokenForm,
)
from webapp.accounts.throttling import AccountThrottle, AddressThrottle, refusal

# A new token is shown once, on the page its creation redirects to. It goes there in
# a signed cookie of this browser's, for a minute, not in the session: sessions are
# rows in the database, which holds only the tokens' digests.
NEW_TOKEN = "new_token"  # noqa: S105 - a cookie's name
NEW_TOKEN_SECONDS = 60
LOGIN_LIMITS = (AccountThrottle, AddressThrottle)  # the site's login, the admin's, deletion


class Throttled:
    """Refuses a POST beyond the limits with 429 and Retry-After, before the form is
    even read, and renders the page with the reason and what was typed (no password)."""

    throttles = (AddressThrottle,)
    kept = ("username", "email")

    def post(self, request, *args, **kwargs):
        wait = refusal(request, [throttle() for throttle in self.throttles])
        if wait is None:
            return super().post(request, *args, **kwargs)
        self.object = None  # what CreateView's context expects
        unbound = {k: v for k, v in self.get_form_kwargs().items() if k not in ("data", "files")}
        typed = {name: request.POST[name] for name in self.kept if name in request.POST}
        unbound["initial"] = {**unbound.get("initial", {}), **typed}
        context = self.get_context_data(
            form=self.get_form_class()(**unbound),
            refusal=f"Too many attempts: try again in {wait} s.",
        )
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(wait)
        return response


class LoginView(Throttled, auth.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True
    form_class = LoginForm
    throttles = LOGIN_LIMITS

    def get_redirect_url(self):
        # A signed-in user sent back here would be a redirection loop (Django raises).
        url = super().get_redirect_url()
        return "" if url and urlsplit(url).path == self.request.path else url


def admin_login(request):
    """The admin's own login, under the same limits as the site's."""
    if request.method == "POST":
        wait = _over_login_limits(request)
        if wait is not None:
            return _too_many(wait)
    return admin.site.login(request)


def _over_login_limits(request) -> int | None:
    return refusal(request, [throttle() for throttle in LOGIN_LIMITS])


def _too_many(wait: int) -> HttpResponse:
    message = f"Too many attempts: try again in {wait} s.\n"
    return HttpResponse(
        message, status=429, content_type="text/plain", headers={"Retry-After": str(wait)}
    )


class SignUpView(Throttled, CreateView):
    form_class = SignUpForm
    template_name = "accounts/signup.html"

    def form_valid(self, form):
        user = form.save()
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(self.request, f"Welcome, {user.username}! Your claps are kept with you.")
        return redirect("home")


class PasswordResetView(Throttled, auth.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")
    form_class = ResetForm


class PasswordResetConfirmView(auth.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    form_class = NewPasswordForm


@never_cache  # the page may show a new token: not for any cache to keep
@login_required
def account(request):
    """The account page: the user's API tokens, a form for a new one."""
    form = TokenForm(request.POST or None)
    salt = f"{NEW_TOKEN}:{request.user.pk}"  # for this user only
    path = reverse("account")
    if request.method == "POST" and form.is_valid():
        _, token = tokens.token_create(user=request.user, name=form.cleaned_data["name"])
        response = redirect("account")
        response.set_signed_cookie(
            NEW_TOKEN,
            token,
            salt=salt,
            max_age=NEW_TOKEN_SECONDS,
            path=path,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Strict",
        )
        return response
    new_token = request.get_signed_cookie(
        NEW_TOKEN, default=None, salt=salt, max_age=NEW_TOKEN_SECONDS
    )
    context = {"form": form, "tokens": request.user.api_tokens.all(), "new_token": new_token}
    response = render(request, "accounts/account.html", context, status=400 if form.errors else 200)
    if NEW_TOKEN in request.COOKIES:
        response.delete_cookie(NEW_TOKEN, path=path, samesite="Strict")
    return response


@login_required
@require_POST
def token_revoke(request, pk):
    if tokens.token_revoke(user=request.user, token_id=pk):
        messages.success(request, "Token revoked: it no longer works.")
    else:
        messages.error(request, "No such token.")
    return redirect("account")


@login_required
def account_delete(request):
    if request.user.is_staff:
        messages.error(request, "Staff accounts are removed by another administrator.")
        return redirect("account")
    if request.method == "POST":
        # The password guards the account against a stolen session: limited like a login.
        wait = _over_login_limits(request)
        if wait is not None:
            return _too_many(wait)
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        removed = services.account_delete(user=user)
        messages.success(
            request,
            f"Your account is deleted, with {removed['jobs']} job(s) and "
            f"{removed['tokens']} token(s).",
        )
        return redirect("home")
    return render(
        request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200
    )
