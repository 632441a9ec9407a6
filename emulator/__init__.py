"""ossemu: a local Alibaba Cloud OSS emulator and its test kit (server, receiver, fixtures, CLI)."""

if __name__ != "ossemu.emulator":
    raise ImportError(
        f"import ossemu.emulator, not {__name__}: ossemu installs its folders under one name so a "
        "project's own emulator.py never collides with them (run from a checkout with `make`)"
    )
