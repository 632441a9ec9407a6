"""ossemu: a local Alibaba Cloud OSS emulator and its test kit (server, receiver, fixtures, CLI)."""
