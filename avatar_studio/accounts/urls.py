from django.urls import include, path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("settings/", views.account, name="account"),
    path("delete/", views.account_delete, name="account-delete"),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # logout, password_change and password_reset and their confirmation pages
    path("", include("django.contrib.auth.urls")),
]
