from django.urls import path

from tiplab_web.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("panels/<slug:key>/", views.panel, name="panel"),
    path("confirm-password/", views.confirm_password, name="confirm_password"),
    path("glossary/", views.glossary, name="glossary"),
]
