"""OSS wire format: no Flask, no disk; may import only the stdlib, ``multipart`` (form.py) and
itself."""
