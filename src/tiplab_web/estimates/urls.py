from django.urls import path

from . import views

app_name = "estimates"
urlpatterns = [
    path("", views.runs, name="runs"),
    path("new/", views.new, name="new"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/status/", views.run_status, name="run_status"),
    path("runs/<int:pk>/designate/", views.designate, name="designate"),
    path("record/withdraw/", views.withdraw, name="withdraw"),
    path("runs/<int:pk>/estimate.json", views.run_json, name="run_json"),
    path("runs/<int:pk>/charts/<str:name>.<str:fmt>", views.chart, name="chart"),
]
