"""The staff's pages of the reporting channel, mounted at ``/reporting/``."""

from django.urls import path

from . import views_staff

app_name = "reporting"
urlpatterns = [
    path("", views_staff.index, name="index"),
    path("<int:pk>/", views_staff.detail, name="detail"),
    path("<int:pk>/triage/", views_staff.triage, name="triage"),
    path("<int:pk>/reply/", views_staff.reply, name="reply"),
    path("<int:pk>/note/", views_staff.note, name="note"),
    path("<int:pk>/refer/", views_staff.refer, name="refer"),
    path("<int:pk>/duplicate/", views_staff.duplicate, name="duplicate"),
    path("<int:pk>/convert/", views_staff.convert, name="convert"),
    path("attachments/<int:pk>/", views_staff.attachment, name="attachment"),
]
