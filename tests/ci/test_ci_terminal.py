"""On a terminal raks may ask; `CI=true` means nobody is there even when a TTY is (some runners
allocate one), and NO_COLOR keeps colours and the live view away but not the question."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from helpers.ci import ANSI


def _on_a_terminal(served, argv: list[str], env: dict[str, str], answer: bytes | None) -> tuple[int, str, str]:
    """raks with stdin and stderr on a pseudo-terminal (stdout piped); `answer` is typed at the prompt."""
    master, slave = pty.openpty()
    full = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR") and not k.startswith("RAKS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "raks", *argv, "--sandbox", "--sandbox-dir", str(served.dir)],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=full | env,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
            if answer is not None and b"[y/N]" in seen:
                os.write(master, answer)
                answer = None
    out = proc.communicate(timeout=120)[0]
    os.close(master)
    return proc.returncode, out.decode(), seen.decode(errors="replace")


def test_ci_true_on_a_terminal_still_never_prompts(served):
    code, _out, err = _on_a_terminal(served, ["up", "--regions", "uksouth"], {"CI": "true"}, answer=None)
    assert code == 2
    assert "pass --yes" in err and "[y/N]" not in err
    assert served.writes() == []


def test_on_a_terminal_raks_asks_and_no_means_nothing_is_written(served):
    code, _out, err = _on_a_terminal(served, ["up", "--regions", "uksouth"], {"NO_COLOR": "1"}, answer=b"n\n")
    assert code == 0
    assert "Apply these changes? [y/N]" in err
    assert served.writes() == []
    assert not ANSI.search(err)  # NO_COLOR: the question, but no colours
