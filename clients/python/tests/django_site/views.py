import os
import posixpath

from django.conf import settings
from django.http import HttpResponseForbidden
from django_sendfile import sendfile


def download(request):
    # The application decides who may have which file...
    if request.COOKIES.get("session") != "alice":
        return HttpResponseForbidden("please log in\n", content_type="text/plain")
    wanted = request.GET.get("file", "")
    # ...and django-sendfile2 hands it to whatever SENDFILE_BACKEND says.
    return sendfile(
        request,
        os.path.join(settings.SENDFILE_ROOT, wanted),
        attachment=True,
        attachment_filename="Alice's " + posixpath.basename(wanted),
    )
