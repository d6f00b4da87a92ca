"""The survivors' pages (anonymous: ``tiplab_web.core.anonymous``)."""

from django.urls import path

from . import voice

app_name = "voice"
urlpatterns = [
    path("", voice.start, name="start"),
    path("consent/", voice.consent, name="consent"),
    path("send/", voice.send, name="send"),
]
