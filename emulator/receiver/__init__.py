"""A stand-in app server for upload callbacks: it records, verifies and answers as told.

Tests start one on ``127.0.0.1:0``, point ``callbackUrl`` at ``receiver.url``, then assert on
``receiver.log``; the pytest plugin shares one per session and gives each test a
:class:`ReceiverScope`. Each callback's signature is checked with the SDK's
``ossemu.client.callback_verify``, imported only when a callback is verified (so starting a
receiver never loads the SDK); a bad or missing signature gets 400, as Alibaba's sample server
does, and is logged as rejected. Stdlib ``http.server`` only, so it starts in milliseconds and
never needs Flask. ``ossemu receiver`` (the CLI) runs the same thing from a shell.
"""

from .records import DEFAULT_BODY, ReceivedCallback, summary
from .server import CallbackReceiver, ReceiverScope

__all__ = ["DEFAULT_BODY", "CallbackReceiver", "ReceivedCallback", "ReceiverScope", "summary"]
