import re
import uuid

from . import audit

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class AuditContextMiddleware:
    """Binds the request (and so its user, resolved lazily) and a request id to every audit
    event written while handling it; echoes the id in the X-Request-ID response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        with audit.context(request=request, request_id=request_id, source="web"):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
