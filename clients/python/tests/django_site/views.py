import os
import posixpath

import xsendfiled
from django.conf import settings
from django.http import HttpResponseForbidden, HttpResponseNotFound
from django_sendfile import sendfile


def download(request):
    # The application decides who may have which file...
    if request.COOKIES.get("session") != "alice":
        return HttpResponseForbidden("please log in\n", content_type="text/plain")
    wanted = request.GET.get("file", "")
    name = "Alice's " + posixpath.basename(wanted)
    if request.GET.get("ask") == "1":
        # ...or asks xsendfiled over its app socket and sees the decision before answering: a
        # refused or missing file gets the site's own page, a sent one xsendfiled's exact reply
        # (nginx follows its X-Accel-Redirect).
        method = "HEAD" if request.method == "HEAD" else "GET"
        answer = xsendfiled.Client(settings.XSENDFILED_APP_SOCKET).ask(
            wanted, filename=name, disposition="attachment", method=method
        )
        if answer.status == 404:
            return HttpResponseNotFound("no such file, said xsendfiled\n", content_type="text/plain")
        return answer.to_django()
    # ...and django-sendfile2 hands it to whatever SENDFILE_BACKEND says.
    return sendfile(
        request,
        os.path.join(settings.SENDFILE_ROOT, wanted),
        attachment=True,
        attachment_filename=name,
    )
