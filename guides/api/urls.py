app_name = "guides"

urlpatterns = []
