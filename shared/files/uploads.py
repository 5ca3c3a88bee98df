"""A route that takes uploads reads a larger body than the platform's default: :func:`accepts_uploads`.
The edge lets such bodies through for the paths listed in ``gateway.routes.LARGE_BODIES``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import IO, Any, TypeVar

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from shared.http.problems import RequestProblem
from shared.i18n import _

F = TypeVar("F", bound=Callable[..., Any])


def too_large(limit: int) -> RequestProblem:
    """413 ``payload-too-large``, naming the limit in bytes."""
    return RequestProblem(
        413, _("The body is over the limit of {limit} bytes.", limit=limit), code="payload-too-large", limit=limit
    )


def accepts_uploads(limit: int, *, parts: int) -> Callable[[F], F]:
    """Decorator (below the guard, above ``idempotent``, which reads the body): this route reads
    bodies of up to ``limit`` bytes in at most ``parts`` form parts (room for a 422 on one too
    many); a larger body is a 413 problem, before it is read when it says its length, else as
    soon as the limit is crossed. The parts' temporary files are closed when the view returns."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.content_length is not None and request.content_length > limit:
                raise too_large(limit)
            request.max_content_length = limit
            request.max_form_parts = parts
            opened: list[IO[bytes]] = []
            make_stream = request._get_file_stream

            def tracked(*stream_args: Any, **stream_kwargs: Any) -> IO[bytes]:
                stream = make_stream(*stream_args, **stream_kwargs)
                opened.append(stream)
                return stream

            request._get_file_stream = tracked  # type: ignore[method-assign]
            try:
                return view(*args, **kwargs)
            except RequestEntityTooLarge:
                raise too_large(limit) from None
            finally:
                # A form cut short (a chunked body over the limit, or one longer than its
                # Content-Length said) leaves the part it had begun in a temporary file werkzeug
                # never hands out, so nobody would close it: close every part's file here.
                for stream in opened:
                    stream.close()

        return wrapper  # type: ignore[return-value]

    return decorate


UNNAMED_PART = "(unnamed part)"
"""How a form part without a name is called in the errors (a hand-made multipart body may send one)."""


def unknown_parts(fields: tuple[str, ...], file_part: str) -> dict[str, list[str]]:
    """The parts of this request's multipart form a route does not take, each with the error
    "Unknown field." (an untranslated msgid, as field errors are), sorted by name; a part without
    a name is :data:`UNNAMED_PART`."""
    names = {n for n in request.form if n not in fields} | {n for n in request.files if n != file_part}
    shown = sorted({UNNAMED_PART if not n else str(n) for n in names})
    return {name: [_("Unknown field.").msgid] for name in shown}
