"""The public portal, mounted at ``/public/`` (namespace ``public``): no login anywhere."""

from django.urls import path, re_path

from . import public_views as views

app_name = "public"
urlpatterns = [
    path("", views.index, name="index"),
    path("releases/<str:identifier>/", views.release, name="release"),
    path("releases/<str:identifier>/v<int:number>/", views.version, name="version"),
    # before the download pattern, which would read "brief-3.pdf" as item "brief-3"
    path("releases/<str:identifier>/v<int:number>/brief-<int:pk>.pdf", views.brief_pdf,
         name="brief"),
    path("releases/<str:identifier>/v<int:number>/charts/<slug:name>.<str:fmt>",
         views.chart, name="chart"),
    path("releases/<str:identifier>/v<int:number>/<slug:key>.<str:fmt>", views.download,
         name="download"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:pk>/", views.plan, name="plan"),
    # anything else under /public/: the portal's own "not found" (the site's sets a cookie)
    re_path(r"^(?P<rest>.*)$", views.public_view(views.not_found), name="not_found"),
]
