"""A real Django site for cache-http's differential tests: the same raw HTTP requests go to it and
to a Node server built on cache-http, and the keys, headers and status codes must be equal.

Run with Debian's python3-django: `/usr/bin/python3 site.py <port>`. It prints `ready <port>`
once it listens on 127.0.0.1.

Each request may carry `X-Case: <json>` naming what to compute:
  /keys/...        {"vary": "...", "prefix": "...", "language": "en", "timeZone": "UTC"}
                   -> {"uri", "headerKey", "learnt", "got"} from learn_cache_key/get_cache_key, as the
                   body and (so HEAD requests carry them too) as the `X-Keys` header
  /condition/...   {"etag": "...", "lastModified": <epoch seconds>}
                   -> the response of a view decorated with condition()
  /headers         {"cacheControl": [[initial, {kwargs}], ...], "vary": [[initial, [names]], ...]}
                   -> {"cacheControl": [...], "vary": [...]} from patch_cache_control/patch_vary_headers
"""
import json
import sys
import urllib.parse
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="cache-http differential tests",
    USE_I18N=False,
    USE_TZ=False,
    MIDDLEWARE=[],
    CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    LANGUAGES=[("en", "English"), ("es", "Spanish"), ("fr", "French")],
)
django.setup()

from datetime import datetime, timezone as dt_timezone  # noqa: E402

from django.core.cache import caches  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import re_path  # noqa: E402
from django.utils import timezone, translation  # noqa: E402
from django.utils.cache import (  # noqa: E402
    _generate_cache_header_key,
    get_cache_key,
    learn_cache_key,
    patch_cache_control,
    patch_vary_headers,
)
from django.views.decorators.http import condition  # noqa: E402


def case(request):
    return json.loads(request.META.get("HTTP_X_CASE", "{}"))


def keys_view(request):
    spec = case(request)
    response = HttpResponse()
    if spec.get("vary") is not None:
        response.headers["Vary"] = spec["vary"]
    prefix = spec.get("prefix", "")
    with override_settings(USE_I18N="language" in spec, USE_TZ="timeZone" in spec):
        if "language" in spec:
            translation.activate(spec["language"])
        if "timeZone" in spec:
            timezone.activate(spec["timeZone"])
        try:
            cache = caches["default"]
            cache.clear()
            learnt = learn_cache_key(request, response, 60, prefix, cache)
            got = get_cache_key(request, prefix, request.method, cache)
            header_key = _generate_cache_header_key(prefix, request)
        finally:
            translation.deactivate()
            timezone.deactivate()
    keys = {"uri": request.build_absolute_uri(), "headerKey": header_key, "learnt": learnt, "got": got}
    response = JsonResponse(keys)
    response.headers["X-Keys"] = json.dumps(keys)
    return response


def condition_view(request):
    spec = case(request)
    last_modified = spec.get("lastModified")

    @condition(
        etag_func=lambda r: spec.get("etag"),
        last_modified_func=lambda r: datetime.fromtimestamp(last_modified, dt_timezone.utc).replace(tzinfo=None) if last_modified else None,
    )
    def view(r):
        return HttpResponse("full body")

    return view(request)


def headers_view(request):
    spec = case(request)
    cache_control = []
    for initial, kwargs in spec.get("cacheControl", []):
        response = HttpResponse()
        if initial is not None:
            response.headers["Cache-Control"] = initial
        patch_cache_control(response, **kwargs)
        cache_control.append(response.headers["Cache-Control"])
    vary = []
    for initial, names in spec.get("vary", []):
        response = HttpResponse()
        if initial is not None:
            response.headers["Vary"] = initial
        patch_vary_headers(response, names)
        vary.append(response.headers["Vary"])
    return JsonResponse({"cacheControl": cache_control, "vary": vary})


urlpatterns = [
    re_path(r"^headers$", headers_view),
    re_path(r"^condition/", condition_view),
    re_path(r"", keys_view),
]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass

    def get_environ(self):
        # http.server (since the fix of gh-87389, in Debian's 3.11 too) rewrites a target starting with `//` to a single
        # `/` before wsgiref reads it; gunicorn, uWSGI and mod_wsgi pass it through. So does this
        # site, so Django's own handling of `//x` is what the tests see.
        env = super().get_environ()
        raw_path = self.requestline.split()[1].split("?", 1)[0]
        if raw_path.startswith("//"):
            env["PATH_INFO"] = urllib.parse.unquote(raw_path, "iso-8859-1")
        return env


class ReusableServer(WSGIServer):
    allow_reuse_address = True


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = make_server("127.0.0.1", port, get_wsgi_application(), server_class=ReusableServer, handler_class=QuietHandler)
    print("ready", server.server_port, flush=True)
    server.serve_forever()
