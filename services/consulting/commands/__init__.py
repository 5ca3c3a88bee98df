"""Consulting's commands: small frozen dataclasses, each naming who asks (``actor``), one module
per area (``catalogue``, ``calendar``, ``cases``, ``messages``). Pure: no Flask, SQLAlchemy or kombu."""
