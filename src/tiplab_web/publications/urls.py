from django.urls import path

from . import views

app_name = "publications"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new_release, name="new"),
    path("ledger/", views.ledger, name="ledger"),
    path("<int:number>/", views.release, name="release"),
    path("<int:number>/new-version/", views.new_version, name="new_version"),
    path("<int:number>/v<int:version>/", views.version, name="version"),
    path("<int:number>/v<int:version>/<str:action>/", views.version_action,
         name="version_action"),
    path("<int:number>/v<int:version>/files/<slug:key>.<str:fmt>", views.download,
         name="download"),
    path("<int:number>/v<int:version>/briefs/new/", views.new_brief, name="new_brief"),
    path("briefs/<int:pk>/", views.brief, name="brief"),
    path("briefs/<int:pk>/brief.<str:fmt>", views.brief_file, name="brief_file"),
]
