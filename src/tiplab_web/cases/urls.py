from django.urls import path

from . import views_cases, views_intake, views_review

app_name = "cases"
urlpatterns = [
    path("", views_cases.case_list, name="list"),
    path("<int:pk>/", views_cases.case_detail, name="detail"),
    path("<int:pk>/reveal/", views_cases.case_reveal, name="reveal"),
    path("intake/", views_intake.intake, name="intake"),
    path("intake/<str:upload_id>/", views_intake.intake_preview, name="intake_preview"),
    path("intake/<str:upload_id>/profile/", views_intake.intake_profile, name="intake_profile"),
    path("intake/<str:upload_id>/replace/", views_intake.intake_replace, name="intake_replace"),
    path("intake/<str:upload_id>/confirm/", views_intake.intake_confirm, name="intake_confirm"),
    path("batches/", views_intake.batches, name="batches"),
    path("batches/<str:batch_id>/", views_intake.batch, name="batch"),
    path("batches/<str:batch_id>/rejects.csv", views_intake.batch_rejects, name="batch_rejects"),
    path("batches/<str:batch_id>/supersede/", views_intake.batch_supersede,
         name="batch_supersede"),
    path("submissions/", views_review.submissions, name="submissions"),
    path("batches/<str:batch_id>/approve/", views_review.approve, name="batch_approve"),
    path("batches/<str:batch_id>/return/", views_review.return_batch, name="batch_return"),
]
