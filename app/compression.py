"""Responses gzip'd for clients that accept it: Starlette's GZipMiddleware, with its commonest
case settled before its machinery is built.

Most answers (an API answer, a probe's, a redirect) come whole, in one message shorter than
`minimum_size`, and Starlette sends such a response as it is, to every client. Building its
responder for it (the request's headers parsed, its list of excluded content types normalised
again, the response's headers parsed) cost every request more than anything else the
middleware does: docs/performance.md#gzip-decided-late. So a start that Starlette's responder,
too, would hold until the first body (an answer's media type, not a range, not encoded) is held
here, and the first body says which case it is: a short whole body goes out as it came; a large
whole body for a client without gzip goes out marked `Vary: Accept-Encoding`, as Starlette's
responder marks it (when the start has no Vary of its own); any other response is handed, its
messages in order, to Starlette's own responder, which compresses it as before, and so is any
other start at once. tests/test_compression.py checks that every message goes out as and when
Starlette's middleware sends it. The one difference: a body that an app sends after a response
already sent as is goes on as it is, for the server to refuse (Starlette would compress it).
"""

from functools import cached_property

from starlette.middleware.gzip import GZipMiddleware as StarletteGZipMiddleware
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import Message, Receive, Scope, Send

# The media types of the app's answers ("": none, as of a redirect). Starlette's responder, too,
# holds a start of one of these (unless the middleware's own list excludes it) until the first
# body comes.
ANSWER_TYPES = ("application/json", "application/problem+json", "text/html", "text/plain", "")


class GZipMiddleware(StarletteGZipMiddleware):
    @cached_property
    def held_types(self) -> frozenset[bytes]:
        excluded = set(self.exclude_content_types)
        return frozenset(
            media_type.encode()
            for media_type in ANSWER_TYPES
            if media_type not in excluded and media_type.partition("/")[0] + "/*" not in excluded
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None  # held until the first body says which case it is
        sent_as_is = False
        responder: IdentityResponder | None = None

        async def send_or_hold(message: Message) -> None:
            nonlocal start, sent_as_is, responder
            if responder is None and not sent_as_is:
                if start is None and self._held_by_starlette_too(message):
                    message.setdefault("headers", [])  # as Starlette's responder does
                    start = message
                    return
                if start is not None and self._ready_as_is(start, message, scope):
                    await send(start)
                    await send(message)
                    sent_as_is = True
                    return
                responder = self._responder(scope, send)
                if start is not None:
                    await responder.send_with_compression(start)
            if responder is None:  # after a response sent as is: its trailers, if any
                await send(message)
            else:
                await responder.send_with_compression(message)

        await self.app(scope, receive, send_or_hold)

    def _ready_as_is(self, start: Message, message: Message, scope: Scope) -> bool:
        """Whether `message`, the first body after a held `start`, is a whole answer that goes
        out as it is: a short one, to any client; a large one, to a client without gzip, once
        `start` is marked `Vary: Accept-Encoding` here as Starlette's identity responder marks
        it (a start with a Vary of its own is left to that responder)."""
        if message["type"] != "http.response.body" or message.get("more_body", False):
            return False
        if len(message.get("body", b"")) < self.minimum_size:
            return True
        if _accepts_gzip(scope) or any(name == b"vary" for name, _ in start["headers"]):
            return False
        start["headers"].append((b"vary", b"Accept-Encoding"))
        return True

    def _held_by_starlette_too(self, message: Message) -> bool:
        """Whether `message` is a start that Starlette's responder, too, would hold until the
        first body: not a range (206), not encoded already, and of one of `held_types`. Any
        other start it sends at once (an image, a stream of events), and so does the responder
        it is handed to here."""
        if message["type"] != "http.response.start" or message["status"] == 206:
            return False
        media_type = None
        for name, value in message.get("headers", ()):  # names are lower case in ASGI
            if name == b"content-encoding":
                return False
            if name == b"content-type" and media_type is None:
                media_type = value.partition(b";")[0].strip().lower()
        return (media_type or b"") in self.held_types

    def _responder(self, scope: Scope, send: Send) -> IdentityResponder:
        """Starlette's responder for this request, chosen as its GZipMiddleware chooses, sending
        on `send` (the attribute its `__call__` sets; tests/test_compression.py fails if a
        release of Starlette changes either)."""
        responder: IdentityResponder
        if _accepts_gzip(scope):
            responder = GZipResponder(
                self.app,
                self.minimum_size,
                compresslevel=self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
        else:
            responder = IdentityResponder(
                self.app, self.minimum_size, exclude_content_types=self.exclude_content_types
            )
        responder.send = send
        return responder


def _accepts_gzip(scope: Scope) -> bool:
    """As Starlette's middleware decides it: "gzip" in the first Accept-Encoding header."""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False
