from django.urls import path

from . import views

app_name = "consultations"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/<int:plan_pk>/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/part/<str:key>/", views.unit, name="unit"),
    path("<int:pk>/part/<str:key>/contribute/", views.contribute, name="contribute"),
    path("<int:pk>/contributions/", views.contributions, name="contributions"),
    path("<int:pk>/c/<int:cid>/react/", views.react, name="react"),
    path("<int:pk>/c/<int:cid>/hide/", views.hide, name="hide"),
    path("<int:pk>/c/<int:cid>/respond/", views.respond, name="respond"),
    path("<int:pk>/invite/", views.invite, name="invite"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/participation/", views.participation, name="participation"),
    path("<int:pk>/report.<str:fmt>", views.report, name="report"),
    path("codes/", views.codes, name="codes"),
    path("codes/<str:batch>/revoke/", views.revoke, name="revoke"),
    path("review/", views.review_queue, name="review_queue"),
    path("review/<int:aid>/", views.review, name="review"),
    path("questionnaires/<str:key>/", views.questionnaire_results, name="questionnaire"),
]
