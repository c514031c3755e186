from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_sent, name="signup-sent"),
    path("signup/<str:token>/", views.signup_finish, name="signup-finish"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", views.account, name="account"),
    path("settings/api-token/", views.api_token_create, name="api-token-create"),
    path("settings/api-token/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("settings/data-export/", views.data_export, name="data-export"),
    path("delete/", views.account_delete, name="account-delete"),
    # Templates of the site's own (Django's default names would also restyle the admin's page).
    path(
        "password_change/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/account_password_change.html"
        ),
        name="password_change",
    ),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/account_password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("password_reset/", views.password_reset, name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
