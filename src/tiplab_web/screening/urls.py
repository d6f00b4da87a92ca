from __future__ import annotations

from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.batch, name="batch"),
    path("<int:pk>/queue/", views.review_queue, name="queue"),
    path("<int:pk>/flags.csv", views.export, name="export"),
    path("items/<int:pk>/review/", views.review, name="review"),
]
