from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("import/", views.import_file, name="import"),
    path("harmonise/", views.harmonise, name="harmonise"),
    path("harmonise/export.csv", views.harmonise_export, name="harmonise_export"),
    path("instruments/", views.instruments, name="instruments"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/items/<str:item>/", views.answer, name="answer"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/reassess/", views.reassess, name="reassess"),
    path("<int:pk>/upload/", views.upload, name="upload"),
    path("<int:pk>/export.<str:fmt>", views.export, name="export"),
    path("<int:pk>/gaps.csv", views.gaps_csv, name="gaps_csv"),
]
