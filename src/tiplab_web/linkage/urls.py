from django.urls import path

from . import views

app_name = "linkage"
urlpatterns = [
    path("", views.runs, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/status/", views.run_status, name="run_status"),
    path("runs/<int:pk>/threshold.svg", views.threshold_chart, name="threshold_chart"),
    path("runs/<int:pk>/review/", views.review, name="review"),
    path("runs/<int:pk>/review/<int:index>/", views.review_pair, name="review_pair"),
    path("runs/<int:pk>/sample/", views.sample, name="sample"),
    path("runs/<int:pk>/sample/<int:index>/", views.sample_pair, name="sample_pair"),
    path("runs/<int:pk>/designate/", views.designate, name="designate"),
    path("designation/withdraw/", views.withdraw, name="withdraw"),
    path("designation/relink/", views.relink, name="relink"),
]
