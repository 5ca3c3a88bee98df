"""Finance's write side: one function per command, ``handler(cmd, *, uow) -> answer``; they change
rows through ``uow.session``, publish with ``uow.publish`` and never commit (docs/SERVICE.md, "The
commit convention"). One module per area; jobs of the worker take ``(*, uow, now=None)``."""
