"""Identity and access: who holds which key, STS sessions, and what a session policy allows.

- ``tokens``: temporary credentials sealed into their SecurityToken (AES-GCM, key in the data
  dir), so every worker and a restarted emulator can check one without a shared table.
- ``credentials``: the one credential lookup (long-term keys, then STS sessions) that
  ``protocol.auth`` asks instead of a secrets dict.
- ``policy``: RAM policy grammar and a pure ``evaluate``.
- ``authorize``: the single OSS authorisation decision (operation -> action and resource).
- ``sts`` and ``signing``: AssumeRole / GetCallerIdentity and the two request signatures
  (RPC HMAC-SHA1, ACS3-HMAC-SHA256) that the STS SDKs use.

May import ``protocol`` and ``clock``; never Flask, storage or the routes.
"""
