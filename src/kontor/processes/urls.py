"""Customer processes under /processes/. Each views module brings its own URL patterns."""

from kontor.processes.views import definitions, drawing, instances, measurement, requirements

app_name = "processes"

urlpatterns = [
    *definitions.urlpatterns,
    *drawing.urlpatterns,
    *instances.urlpatterns,
    *measurement.urlpatterns,
    *requirements.urlpatterns,
]
