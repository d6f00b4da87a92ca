from django.urls import path

from . import budget, views

app_name = "plans"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("import/", views.import_file, name="import"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/narrative/", views.narrative, name="narrative"),
    path("<int:pk>/objectives/", views.objective_new, name="objective_new"),
    path("<int:pk>/measures/new/", views.measure_edit, name="measure_new"),
    path("<int:pk>/measures/<str:measure>/", views.measure_edit, name="measure"),
    path("<int:pk>/measures/<str:measure>/delete/", views.measure_delete, name="measure_delete"),
    path("<int:pk>/measures/<str:measure>/status/", views.measure_status,
         name="measure_status"),
    path("<int:pk>/measures/<str:measure>/cite/", views.cite, name="cite"),
    path("<int:pk>/measures/<str:measure>/uncite/", views.uncite, name="uncite"),
    path("<int:pk>/from-gap/", views.from_gap, name="from_gap"),
    path("<int:pk>/status/", views.transition, name="transition"),
    path("<int:pk>/adopt/", views.adopt, name="adopt"),
    path("<int:pk>/new-version/", views.new_version, name="new_version"),
    path("<int:pk>/versions/", views.versions, name="versions"),
    path("<int:pk>/export.<str:fmt>", views.export, name="export"),
    path("<int:pk>/agreements/", views.agreement, name="agreement"),
    path("<int:pk>/budget/", budget.page, name="budget"),
    path("<int:pk>/budget/chart.svg", budget.chart, name="budget_chart"),
    path("<int:pk>/budget/spend/", budget.spend, name="spend"),
    path("<int:pk>/budget/scenarios/", budget.scenario, name="scenario"),
]
