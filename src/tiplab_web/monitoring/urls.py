from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.index, name="index"),
    path("overview/", views.overview, name="overview"),
    path("new/", views.new, name="new"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/items/", views.add_item, name="add_item"),
    path("rounds/<int:pk>/items/<int:item>/remove/", views.remove_item, name="remove_item"),
    path("rounds/<int:pk>/close/", views.close, name="close"),
    path("forms/<int:pk>/", views.form_detail, name="form"),
    path("forms/<int:pk>/values/", views.values, name="values"),
    path("forms/<int:pk>/template.<str:fmt>", views.template, name="template"),
    path("forms/<int:pk>/upload/", views.upload, name="upload"),
    path("forms/<int:pk>/review/", views.review, name="review"),
]
