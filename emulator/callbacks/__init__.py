"""Upload callbacks: parse -> render -> sign -> deliver.

No Flask: imports only ``emulator.protocol.errors``, ``emulator.clock`` and the stdlib,
``cryptography``, ``pillow`` and ``filelock`` (for creating the signing key once). The route parses
the spec before storing the object and delivers after the commit, with no lock held.
"""

from .delivery import CallbackEngine, CallbackOutcome
from .journal import CallbackJournal
from .signing import load_or_create_private_key, public_key_pem, sign_callback
from .spec import FORM_TYPE, JSON_TYPE, CallbackSpec, parse_callback
from .template import CallbackContext, render_body

__all__ = [
    "FORM_TYPE",
    "JSON_TYPE",
    "CallbackContext",
    "CallbackEngine",
    "CallbackJournal",
    "CallbackOutcome",
    "CallbackSpec",
    "load_or_create_private_key",
    "parse_callback",
    "public_key_pem",
    "render_body",
    "sign_callback",
]
