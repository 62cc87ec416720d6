"""Activities, My day and tasks under /activities/, the calendar and its feed under
/calendar/. Each views module brings its own URL patterns."""

from kontor.activities.views import activities, appointments, capture, feeds, tasks

app_name = "activities"

urlpatterns = [
    *tasks.urlpatterns,  # "My day" is /activities/
    *activities.urlpatterns,
    *capture.urlpatterns,
    *appointments.urlpatterns,
    *feeds.urlpatterns,
]
