from django.contrib import admin

from webapp.dashboard.models import DeadLetterAction


@admin.register(DeadLetterAction)
class DeadLetterActionAdmin(admin.ModelAdmin):
    """The log of handled dead letters; written only by the dead-letters page."""

    list_display = ["at", "action", "topic", "partition", "offset", "key", "by"]
    list_filter = ["action"]
    search_fields = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
