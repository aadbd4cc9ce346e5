"""A local stand-in for Brevo's transactional SMS API, answering as its documentation says.

POST /v3/transactionalSMS/send with header ``api-key``:
- 201 ``{"reference", "messageId", "smsCount", "usedCredits", "remainingCredits"}``;
- 400 ``{"code": "invalid_parameter", "message": ...}`` for a recipient that is not a number;
- 401 ``{"code": "unauthorized", "message": "Key not found"}`` for a wrong key;
- 402 ``{"code": "not_enough_credits", ...}`` when credits run out.
``fail_next`` queues statuses (e.g. 500, 503) to answer before behaving normally again.

GET /v3/transactionalSMS/statistics/events?phoneNumber=&tags=["…"] answers ``{"events": [...]}``
with a "sent" event (``messageId``, ``phoneNumber``, ``tag``) per SMS it took with one of the tags.
"""

from __future__ import annotations

import itertools
import json
import threading

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

API_KEY = "test-brevo-key"


class FakeBrevo:
    def __init__(self):
        self.requests: list[dict] = []
        self.fail_next: list[int] = []
        self.credits = 1000.0
        self.sent: list[dict] = []
        self._ids = itertools.count(1001)
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v3"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()

    def wsgi(self, environ, start_response):
        request = Request(environ)
        return self.handle(request)(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/v3/transactionalSMS/statistics/events":
            return self.events(request)
        if request.method != "POST" or request.path != "/v3/transactionalSMS/send":
            return _json({"code": "not_found", "message": "Not found"}, 404)
        with self._lock:
            body = request.get_json(silent=True) or {}
            self.requests.append({"headers": dict(request.headers), "json": body})
            if self.fail_next:
                return _json({"code": "internal_error", "message": "Try again later"}, self.fail_next.pop(0))
            if request.headers.get("api-key") != API_KEY:
                return _json({"code": "unauthorized", "message": "Key not found"}, 401)
            recipient = str(body.get("recipient", ""))
            if not recipient.isdigit() or not body.get("content") or not body.get("sender"):
                return _json({"code": "invalid_parameter", "message": "recipient is not valid"}, 400)
            if self.credits < 1:
                return _json({"code": "not_enough_credits", "message": "Not enough credits"}, 402)
            parts = 1 if len(body["content"]) <= 160 else -(-len(body["content"]) // 153)
            self.credits -= parts
            message_id = next(self._ids)
            tags = body.get("tag") if isinstance(body.get("tag"), list) else [body.get("tag")]
            self.sent.append({"messageId": str(message_id), "phoneNumber": recipient, "tags": tags})
            return _json(
                {
                    "reference": f"ref-{message_id}",
                    "messageId": message_id,
                    "smsCount": parts,
                    "usedCredits": float(parts),
                    "remainingCredits": self.credits,
                },
                201,
            )

    def events(self, request: Request) -> Response:
        if request.headers.get("api-key") != API_KEY:
            return _json({"code": "unauthorized", "message": "Key not found"}, 401)
        wanted = set(json.loads(request.args.get("tags") or "[]"))
        phone = request.args.get("phoneNumber")
        events = [
            {
                "event": "sent",
                "messageId": sms["messageId"],
                "phoneNumber": sms["phoneNumber"],
                "tag": ",".join(sms["tags"]),
            }
            for sms in self.sent
            if wanted & set(sms["tags"]) and (not phone or phone == sms["phoneNumber"])
        ]
        return _json({"events": events}, 200)


def _json(payload: dict, status: int) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")
