from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tools.bench.celery_views import CeleryClapJobViewSet
from webapp.urls import urlpatterns as site_urlpatterns

CELERY_SUBMIT_PATH = "/bench/celery/claps/"
CEILING_PATH = "/bench/ceiling/"


@csrf_exempt
@require_POST
def ceiling(request):
    """The server stack's ceiling: every middleware, no work, a 202 of a small JSON."""
    return JsonResponse({"id": "00000000-0000-0000-0000-000000000000"}, status=202)


urlpatterns = [
    path(CELERY_SUBMIT_PATH.lstrip("/"), CeleryClapJobViewSet.as_view({"post": "create"})),
    path(CEILING_PATH.lstrip("/"), ceiling),
    *site_urlpatterns,
]
