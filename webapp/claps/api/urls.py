from rest_framework.routers import DefaultRouter

from webapp.claps.api.views import ClapJobViewSet

router = DefaultRouter()
router.register("claps", ClapJobViewSet, basename="clap")
urlpatterns = router.urls
