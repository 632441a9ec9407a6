"""ossemu: a local Alibaba Cloud OSS emulator and its test kit (server, receiver, fixtures, CLI).

The server never imports the SDK (``ossemu.client``): client and emulator each implement the OSS
protocol, so a bug in one is caught by the other. Only the edge tools import it, lazily: the
CLI's object commands, the demo, the receiver's verifier, the dev page's form signer and the
pytest fixtures.
"""

if __name__ != "ossemu.emulator":
    raise ImportError(
        f"import ossemu.emulator, not {__name__}: ossemu installs its folders under one name so a "
        "project's own emulator.py never collides with them (run from a checkout with `make`)"
    )
