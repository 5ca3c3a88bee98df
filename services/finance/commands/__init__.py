"""Finance's commands: small frozen dataclasses, each naming who asks (``actor``), one module per
area. Pure: no Flask, SQLAlchemy or kombu."""
