from django.urls import path

from tools.bench.celery_views import CeleryClapJobViewSet
from webapp.urls import urlpatterns as site_urlpatterns

CELERY_SUBMIT_PATH = "/bench/celery/claps/"

urlpatterns = [
    path(CELERY_SUBMIT_PATH.lstrip("/"), CeleryClapJobViewSet.as_view({"post": "create"})),
    *site_urlpatterns,
]
