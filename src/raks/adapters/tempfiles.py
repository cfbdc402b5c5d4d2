"""Temp files for values, resource files and kubeconfigs: mode 0600, removed after use.

Secrets and values never go on a command line (visible in the process list); they go here.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def private_file(prefix: str, content: bytes) -> Iterator[str]:
    """A temp file only this user can read (values and credentials never go on argv)."""
    fd, path = tempfile.mkstemp(prefix=f"raks-{prefix}-", suffix=".yaml")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, content)
        os.close(fd)
        yield path
    finally:
        os.unlink(path)
