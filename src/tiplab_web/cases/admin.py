from django.contrib import admin

from .models import AggregateRecord, CaseRecord, ImportBatch, RejectedRow, RowIssue


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ("batch_id", "kind", "source_agency", "file_name", "rows", "accepted",
                    "rejected", "status", "imported_by", "imported_at")
    list_filter = ("kind", "status", "source_agency")
    search_fields = ("batch_id", "file_name", "sha256")
    exclude = ("profile_text",)
    readonly_fields = [f.name for f in ImportBatch._meta.concrete_fields
                       if f.name != "profile_text"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AggregateRecord)
class AggregateRecordAdmin(admin.ModelAdmin):
    list_display = ("country", "indicator", "dimension", "category", "sex", "age_group", "year",
                    "value", "value_low", "value_high", "censored")
    list_filter = ("indicator", "censored")
    search_fields = ("country", "category")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(RowIssue)
class RowIssueAdmin(admin.ModelAdmin):
    list_display = ("batch", "source_row", "code", "severity", "column", "message")
    list_filter = ("severity", "code")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(RejectedRow)
class RejectedRowAdmin(admin.ModelAdmin):
    list_display = ("batch", "source_row")
    exclude = ("raw_sealed",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


# Case records are deliberately not in the admin: they are browsed through the audited case
# browser, never through a generic page that would bypass the audit log.
_ = CaseRecord
