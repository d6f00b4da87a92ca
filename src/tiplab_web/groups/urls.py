from django.urls import path

from . import views

app_name = "groups"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/members/", views.member_add, name="member_add"),
    path("<int:pk>/members/<int:member>/end/", views.member_end, name="member_end"),
    path("<int:pk>/meetings/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views.meeting, name="meeting"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("meetings/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("meetings/<int:pk>/decisions/", views.decision_add, name="decision_add"),
    path("meetings/<int:pk>/actions/", views.action_add, name="action_add"),
    path("meetings/<int:pk>/minutes.<str:fmt>", views.export, name="export"),
    path("actions/<int:pk>/", views.action, name="action"),
]
