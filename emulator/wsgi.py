"""WSGI entry point for multi-worker servers: ``gunicorn -k gthread ossemu.emulator.wsgi:app``.

Configuration comes from the environment (``OSSEMU_DATA_DIR``, ``OSS_ACCESS_KEY_ID``,
``OSS_ACCESS_KEY_SECRET``); every worker opens the same data dir, which storage makes safe.
"""

from .app import create_app
from .config import EmulatorConfig

app = create_app(EmulatorConfig.from_env())
