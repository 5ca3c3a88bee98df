"""Where the benches write their figures: blocks of docs/PERFORMANCE.md between HTML comments.

Every bench owns one or more blocks (``<!-- NAME:start -->`` … ``<!-- NAME:end -->``); a run
replaces its blocks and nothing else, so the prose around them, written by people, stays.
"""

from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    """The start and end comments of the block ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def put_block(body: str, name: str, text: str, *, section: str = "") -> str:
    """``body`` with the block ``name`` holding ``text``: replaced where its markers stand, else
    appended at the end of ``section`` (a ``## `` heading, added at the end when missing) or of
    ``body``."""
    start, end = markers(name)
    block = f"{start}\n{text.strip()}\n{end}"
    if start in body and end in body:
        head, rest = body.split(start, 1)
        return head + block + rest.split(end, 1)[1]
    if not section:
        return body.rstrip() + "\n\n" + block + "\n"
    if section not in body:
        body = body.rstrip() + f"\n\n{section}\n"
    head, rest = body.split(section, 1)
    cut = rest.find("\n## ")  # the end of this section: the next heading of its rank
    inside, tail = (rest, "") if cut < 0 else (rest[:cut], rest[cut:])
    return head + section + inside.rstrip() + "\n\n" + block + "\n" + tail


def write_block(path: Path, name: str, text: str, *, section: str = "") -> None:
    """Write the block ``name`` of the document at ``path`` (see :func:`put_block`)."""
    body = path.read_text() if path.exists() else "# Performance\n"
    path.write_text(put_block(body, name, text, section=section))
