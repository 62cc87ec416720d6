"""E-mail under /mail/: writing and templates (outgoing), mailboxes and the review
queue (incoming). Each views module brings its own URL patterns."""

from kontor.mail.views import incoming, outgoing, templates

app_name = "mail"

urlpatterns = [*outgoing.urlpatterns, *templates.urlpatterns, *incoming.urlpatterns]
