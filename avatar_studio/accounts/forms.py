from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from .ratelimit import LoginPausedMixin


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        help_text="Only used to reset your password if you forget it.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email exists. Log in instead.")
        return email


class RateLimitedAuthenticationForm(LoginPausedMixin, AuthenticationForm):
    """The login form, saying plainly when logging in is paused and for how long."""


class RateLimitedAdminAuthenticationForm(LoginPausedMixin, AdminAuthenticationForm):
    """The admin's login form, with the same message."""


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To be sure it is you.",
    )
    confirm = forms.BooleanField(
        label="I understand that my account, all my avatars and selfies are deleted for good.",
        error_messages={"required": "Tick the box to confirm."},
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.", code="wrong_password")
        return password
