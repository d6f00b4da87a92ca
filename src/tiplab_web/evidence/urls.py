from django.urls import path

from . import views

app_name = "evidence"
urlpatterns = [
    path("", views.index, name="index"),
    path("add/", views.add, name="add"),
    path("upload/", views.upload, name="upload"),
    path("notes/<int:pk>/", views.note, name="note"),
    path("notes/<int:pk>/settings/", views.note_settings, name="note_settings"),
    path("notes/<int:pk>/code/", views.code, name="code"),
    path("notes/<int:pk>/finish/", views.finish, name="finish"),
    path("notes/<int:pk>/quote/", views.quote, name="quote"),
    path("notes/<int:pk>/suggest/", views.suggest, name="suggest"),
    path("codings/<int:pk>/delete/", views.uncode, name="uncode"),
    path("suggestions/<int:pk>/<str:action>/", views.decide, name="decide"),
    path("suggest/", views.suggest_all, name="suggest_all"),
    path("next/", views.ask_next, name="next"),
    path("agreement/", views.agreement, name="agreement"),
    path("codebook/", views.codebook, name="codebook"),
    path("codebook/edit/", views.codebook_edit, name="codebook_edit"),
    path("codebook/train/", views.train, name="train"),
    path("themes/", views.themes_page, name="themes"),
    path("quotations/<str:identifier>.json", views.quotation, name="quotation"),
]
