from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm

from .ratelimit import LoginPausedMixin


class SignupForm(forms.Form):
    """The first step of signing up: the address that gets the link to finish it."""

    email = forms.EmailField(
        label="Email",
        help_text="We send a link there to finish signing up. Afterwards it is only used to "
        "reset your password if you forget it.",
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class FinishSignupForm(BaseUserCreationForm):
    """Username and password, for the address a sign-up link was sent to."""

    class Meta(BaseUserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)

    def __init__(self, email, *args, **kwargs):
        self.email = email
        # The address on the instance before validation: the password must not resemble it.
        super().__init__(*args, instance=get_user_model()(email=email), **kwargs)

    def clean_username(self):
        username = self.cleaned_data.get("username")
        taken = get_user_model()._default_manager.filter(username__iexact=username)
        if username and taken.exists():
            raise forms.ValidationError("That username is taken. Choose another one.", "unique")
        return username

    def clean(self):
        # The link's own mailbox reads this; the link may have been opened twice.
        if get_user_model()._default_manager.filter(email__iexact=self.email).exists():
            raise forms.ValidationError(
                "This email address already has an account. Log in, or reset your password if "
                "you have forgotten it.",
                code="email_taken",
            )
        return super().clean()


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
