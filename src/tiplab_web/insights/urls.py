from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("trends/", views.trends, name="trends"),
    path("trends/chart.<str:fmt>", views.trends_chart, name="trends_chart"),
    path("trends/export.csv", views.trends_export, name="trends_export"),
    path("hotspots/", views.hotspots, name="hotspots"),
    path("hotspots/regions.geojson", views.hotspots_geojson, name="hotspots_geojson"),
    path("hotspots/map.<str:fmt>", views.hotspots_map, name="hotspots_map"),
    path("hotspots/export.csv", views.hotspots_export, name="hotspots_export"),
    path("hotspots/emerging.csv", views.hotspots_emerging_export,
         name="hotspots_emerging_export"),
    path("profiles/", views.profiles, name="profiles"),
    path("profiles/export.csv", views.profiles_export, name="profiles_export"),
    path("routes/", views.routes, name="routes"),
    path("routes/map.<str:fmt>", views.routes_map, name="routes_map"),
    path("routes/export.csv", views.routes_export, name="routes_export"),
    path("routes/changes.csv", views.routes_changes_export, name="routes_changes_export"),
    path("gap/", views.gap, name="gap"),
    path("gap/export.csv", views.gap_export, name="gap_export"),
    path("gap/map.<str:fmt>", views.gap_map, name="gap_map"),
    path("vulnerability/", views.vulnerability, name="vulnerability"),
    path("vulnerability/upload/", views.vulnerability_upload, name="vulnerability_upload"),
    path("vulnerability/export.csv", views.vulnerability_export,
         name="vulnerability_export"),
    path("vulnerability/<str:name>.<str:fmt>", views.vulnerability_figure,
         name="vulnerability_figure"),
]
