from django.urls import path

from tiplab_web.accounts import reset, views, views_security

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/reset/", reset.ResetRequestView.as_view(), name="password_reset"),
    path("password/reset/sent/", reset.ResetSentView.as_view(), name="password_reset_sent"),
    path("password/reset/<uidb64>/<token>/", reset.ResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password/reset/done/", reset.ResetDoneView.as_view(), name="password_reset_done"),
    path("two-factor/setup/", views.otp_enrol, name="otp_enrol"),
    path("two-factor/verify/", views.otp_verify, name="otp_verify"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
    path("users/", views.users, name="users"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/<int:user_id>/", views.user_edit, name="user_edit"),
    path("users/<int:user_id>/reset-two-factor/", views_security.user_reset_second_factor,
         name="user_reset_2fa"),
    path("users/<int:user_id>/sign-out/", views_security.user_sign_out, name="user_sign_out"),
    path("security/", views_security.security_page, name="security"),
    path("security/sessions/end/", views_security.end_sessions, name="end_sessions"),
    path("security/recovery-codes/", views_security.recovery_codes, name="recovery_codes"),
    path("organisations/", views.organisations, name="organisations"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
