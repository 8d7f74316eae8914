"""Clap jobs in the admin: find them, follow their timeline, retry or cancel them.

Job state is written only by the recorder, so every field is read-only here and
changes go through the same services the API uses.
"""

import uuid

from django.contrib import admin, messages

from webapp.claps import services
from webapp.claps.models import ClapJob, Transition
from webapp.claps.publisher import PublishError


class TransitionInline(admin.TabularInline):
    model = Transition
    fields = ["at", "status", "worker", "detail", "seq"]
    readonly_fields = fields
    ordering = ["seq"]
    extra = 0
    can_delete = False
    verbose_name_plural = "Timeline"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ClapJob)
class ClapJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "claps",
        "done",
        "attempts",
        "owner",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", ("published_at", admin.EmptyFieldListFilter), "finished_at"]
    search_fields = ["note"]
    search_help_text = "A job id, or words of its note."
    date_hierarchy = "created_at"
    inlines = [TransitionInline]
    actions = ["retry", "cancel"]
    readonly_fields = [field.name for field in ClapJob._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        try:
            job_id = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(id=job_id), False

    def has_add_permission(self, request):
        return False  # jobs are submitted through the site or the API

    @admin.action(description="Retry the selected failed jobs", permissions=["change"])
    def retry(self, request, queryset):
        self._apply(
            request, queryset, services.clap_retry, "retried", lambda new: f"Retried as {new.id}."
        )

    @admin.action(description="Cancel the selected jobs", permissions=["change"])
    def cancel(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.clap_cancel,
            "asked to cancel",
            lambda _: "Asked the workers to cancel it.",
        )

    def _apply(self, request, queryset, service, done: str, logged) -> None:
        """Run the service on each job; each success goes to the job's admin history
        (who did what, when)."""
        succeeded, refused = 0, []
        for job in queryset:
            try:
                result = service(job=job)
            except (services.JobStateConflict, PublishError) as exc:
                refused.append(f"{job.id}: {exc}")
            else:
                self.log_change(request, job, logged(result))
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{succeeded} job(s) {done}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)
