"""OSS wire format: no Flask, no disk; may import only the stdlib and itself."""
