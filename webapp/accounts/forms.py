from django import forms
from django.contrib.auth import forms as auth
from django.contrib.auth.models import User


class SiteForm:
    """The site's forms: labels without a trailing colon."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginForm(SiteForm, auth.AuthenticationForm):
    pass


class ResetForm(SiteForm, auth.PasswordResetForm):
    pass


class NewPasswordForm(SiteForm, auth.SetPasswordForm):
    pass


class SignUpForm(SiteForm, auth.UserCreationForm):
    email = forms.EmailField(
        label="Email",
        help_text="Only for resetting your password.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(auth.UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email exists: log in instead.")
        return email


class TokenForm(SiteForm, forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=60,
        help_text="What the token is for, e.g. “nightly script”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class DeleteAccountForm(SiteForm, forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        help_text="To confirm it is you.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password
