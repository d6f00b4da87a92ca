from django.urls import path

from . import views

app_name = "evaluation"
urlpatterns = [
    path("", views.index, name="index"),
    path("plans/<int:pk>/scorecard/", views.scorecard, name="scorecard"),
    path("plans/<int:pk>/schedule/", views.schedule, name="schedule"),
    path("plans/<int:pk>/impact/", views.impact, name="impact"),
    path("impact/<int:pk>/", views.impact_detail, name="impact_detail"),
    path("reviews/<int:pk>/", views.review, name="review"),
    path("reviews/<int:pk>/snapshot.json", views.snapshot, name="snapshot"),
    path("reviews/<int:pk>/<str:action>/", views.review_action, name="review_action"),
    path("reviews/<int:pk>/recommendations/<int:number>/decide/", views.decide,
         name="decide"),
]
