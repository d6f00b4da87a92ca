"""The anonymous pages, mounted at ``/report/`` (``settings.TIPLAB_ANONYMOUS_PATHS``)."""

from django.urls import path

from . import views_public

app_name = "report"
urlpatterns = [
    path("", views_public.form, name="form"),
    path("receipt/", views_public.receipt, name="receipt"),
]
