"""What handlers reach through the app: :class:`Services` and its accessor, side by side.

A leaf for the routes (it imports no route and not the app), the way flask's tutorial keeps
``get_db()`` beside the db: ``create_app`` builds one ``Services`` and stores it on the app.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from flask import current_app

from .callbacks import CallbackEngine, CallbackJournal
from .clock import SharedClock
from .config import EmulatorConfig
from .faults import FaultInjector
from .iam.credentials import Credentials
from .storage import ObjectStore, Storage

EXTENSION = "ossemu"  # the key in ``app.extensions``

#: The services of the OSS request being served (``routes.wsgi`` sets it): read in one step,
#: where ``current_app`` goes through werkzeug's proxy several times a request.
SERVING: ContextVar[Services | None] = ContextVar("ossemu_serving", default=None)


@dataclass
class Services:
    """The emulator's parts, built once per app by ``create_app``."""

    config: EmulatorConfig
    storage: Storage
    #: Sends upload callbacks and journals each delivery.
    callback_delivery: CallbackEngine
    journal: CallbackJournal
    public_key_pem: bytes
    faults: FaultInjector
    clock: SharedClock
    #: Long-term and STS credentials: the lookup every signature check asks.
    credentials: Credentials
    #: Unexpected exceptions (500s) since the last ``take_errors()``: fixtures re-raise them.
    errors: list[BaseException] = field(default_factory=list)

    def reset(self) -> None:
        """Wipe buckets, objects, uploads, the journal and the faults; set the clock back."""
        self.storage.reset()
        self.journal.clear()
        self.faults.clear()
        self.clock.set_offset(0)

    def take_errors(self) -> list[BaseException]:
        errors, self.errors[:] = list(self.errors), []
        return errors

    def close(self) -> None:
        self.storage.close()
        self.journal.close()
        self.faults.close()
        self.clock.close()


def services() -> Services:
    """The current app's services (inside a request or an app context)."""
    return SERVING.get() or current_app.extensions[EXTENSION]


def storage() -> ObjectStore:
    """The storage, seen through what routes may call."""
    return services().storage
