"""The sandbox as a background server that outlives the command that started it.

Local emulators users know behave this way: `localstack start -d` / `localstack stop` /
`localstack status`, `minikube start|stop|status`, Azurite and the Cosmos DB emulator run until
stopped. So a kubeconfig written by `raks kubeconfig --sandbox` keeps working after raks exits.

Per state folder:
- `sandbox.pid`   the background server's pid (written by the server while it holds the folder's
                  lock, removed when it exits; a pid file whose process is gone is stale);
- `ports.json`    the ARM/Kubernetes and Anyscale ports, chosen once and reused on every start,
                  so kubeconfigs and ANYSCALE_HOST stay valid across restarts;
- `sandbox.log`   the background server's stderr;
- `endpoints.json` while it serves (runner.py: the contract other clients rely on).

The server holds the folder's flock (state.StateDir) for its whole life: that lock, not the pid
alone, says whether a server really runs (a pid can be reused by another program).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from raks.sandbox.runner import Sandbox, running_endpoints
from raks.sandbox.state import ENDPOINTS_FILE, LOCK_FILE, StateDir

PID_FILE = "sandbox.pid"
PORTS_FILE = "ports.json"
LOG_FILE = "sandbox.log"
START_LOCK = "start.lock"
START_TIMEOUT = 60.0  # a cold start (TLS generation, imports) takes ~1 s; a loaded CI box more
STOP_TIMEOUT = 20.0


class SandboxServerError(Exception):
    """The background server could not be started, reached or stopped (one line for the user)."""


# -- ports --------------------------------------------------------------------------------------
def remembered_ports(directory: Path) -> dict[str, int] | None:
    """The ports this folder's server used before; None for a folder copied from another one
    (its ports belong to the original, which may be serving them)."""
    try:
        data = json.loads((directory / PORTS_FILE).read_text(encoding="utf-8"))
        if data.get("folder") != str(directory.resolve()):
            return None
        return {"arm": int(data["arm"]), "anyscale": int(data["anyscale"])}
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _remember_ports(directory: Path, arm_url: str, anyscale_url: str) -> None:
    ports = {
        "arm": int(arm_url.rsplit(":", 1)[1]),
        "anyscale": int(anyscale_url.rsplit(":", 1)[1]),
        "folder": str(directory.resolve()),
    }
    tmp = directory / f".{PORTS_FILE}.tmp"
    tmp.write_text(json.dumps(ports) + "\n", encoding="utf-8")
    os.replace(tmp, directory / PORTS_FILE)


# -- the server process -------------------------------------------------------------------------
def serve(
    directory: Path,
    profile: str,
    *,
    port: int | None = None,
    background: bool = False,
    on_ready: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT (or until the state folder is deleted).

    `port` None: the folder's remembered ports (chosen on the first start and remembered).
    `background`: also write the pid file that `stop`/`status` use.
    """
    ports = remembered_ports(directory) if port is None else None
    arm_port = port if port is not None else (ports or {}).get("arm", 0)
    any_port = (ports or {}).get("anyscale", 0)
    sandbox = Sandbox(directory, profile, port=arm_port, anyscale_port=any_port)
    try:
        sandbox.start(blocking=False)
    except RuntimeError as exc:
        raise SandboxServerError(f"{exc} (stop it, or choose another state folder)") from None
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise SandboxServerError(
            f"port {arm_port} or {any_port} (remembered in {directory / PORTS_FILE}) is in use by another "
            f"program; stop that program, or delete {PORTS_FILE} to pick new ports (kubeconfigs written "
            "before then will point at the old port)"
        ) from None
    pid_file = directory / PID_FILE
    endpoints_file = directory / ENDPOINTS_FILE
    stop = threading.Event()
    try:
        ep = sandbox.endpoints()
        if port is None:
            _remember_ports(directory, ep["arm"], ep["anyscale"])
        if background:
            pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
        sandbox.write_endpoints()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        threading.Thread(target=_watch_folder, args=(directory, stop), daemon=True, name="raks-folder").start()
        if on_ready is not None:
            on_ready(ep)
        stop.wait()
    finally:
        endpoints_file.unlink(missing_ok=True)
        if background:
            pid_file.unlink(missing_ok=True)
        sandbox.stop()


def _watch_folder(directory: Path, stop: threading.Event) -> None:
    """A server whose state folder was deleted (e.g. a test's temp folder) has nothing to serve."""
    while not stop.wait(2.0):
        if not (directory / LOCK_FILE).exists():  # exists for as long as the folder does
            stop.set()


# -- the client side: start, stop, status -------------------------------------------------------
@contextlib.contextmanager
def _start_lock(directory: Path) -> Iterator[None]:
    """Two commands starting the server at once start one (the second waits, then finds it)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / START_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


_children: dict[int, subprocess.Popen[bytes]] = {}  # servers this process started (reaped on stop)


def start(directory: Path, profile: str) -> tuple[dict[str, Any], bool]:
    """The running server's endpoints, starting a background server if none answers.

    Returns (endpoints, started_now).
    """
    found = running_endpoints(directory)
    if found is not None:
        return found, False
    with _start_lock(directory):
        found = running_endpoints(directory)
        if found is not None:
            return found, False
        _clean_stale(directory)
        read_fd, write_fd = os.pipe()
        log = open(directory / LOG_FILE, "ab")  # noqa: SIM115 - handed to the child
        try:
            # Straight to this module's main(): no CLI to import, so the server is up sooner.
            proc = subprocess.Popen(
                [sys.executable, "-m", "raks.sandbox.daemon", str(directory), profile, str(write_fd)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(write_fd,),
                start_new_session=True,  # not killed with the terminal's process group (Ctrl-C)
            )
        finally:
            os.close(write_fd)
            log.close()
        _children[proc.pid] = proc
        try:
            message = _read_ready(read_fd, START_TIMEOUT)
        finally:
            os.close(read_fd)
        if message != "ready":
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
            _children.pop(proc.pid, None)
            detail = message or _last_line(directory / LOG_FILE) or f"exit code {proc.returncode}"
            raise SandboxServerError(f"the sandbox server for {directory} did not start: {detail}")
        found = running_endpoints(directory)
        if found is None:
            raise SandboxServerError(f"the sandbox server for {directory} started but does not answer")
        return found, True


def _read_ready(fd: int, timeout: float) -> str:
    """The child's one line on the ready pipe: "ready", or why it could not start ("" = it died)."""
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return f"no answer within {timeout:.0f} s"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    return data.decode("utf-8", "replace").strip()


def report_ready(fd: int | None, message: str) -> None:
    """The server's side of the ready pipe."""
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(fd, message.replace("\n", " ").encode() + b"\n")
        os.close(fd)


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        return ""
    return lines[-1] if lines else ""


def _pid_of(directory: Path) -> int | None:
    try:
        return int((directory / PID_FILE).read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None


def _gone(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return False
        _children.pop(pid, None)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _folder_locked(directory: Path) -> bool:
    """Whether some process (a server) holds the state folder's lock."""
    probe = StateDir(directory)
    if probe.lock(blocking=False):
        probe.unlock()
        return False
    return True


def _clean_stale(directory: Path) -> bool:
    """Remove a pid file (and endpoints.json) left by a server that is gone. True if one was."""
    pid = _pid_of(directory)
    if pid is None:
        return False
    if _gone(pid) or not _folder_locked(directory):
        (directory / PID_FILE).unlink(missing_ok=True)
        if running_endpoints(directory) is None:
            (directory / ENDPOINTS_FILE).unlink(missing_ok=True)
        return True
    return False


def stop(directory: Path, timeout: float = STOP_TIMEOUT) -> int | None:
    """Stop the background server: SIGTERM, then wait until the process is gone.

    Returns the pid that was stopped, None when none was running (a stale pid file is removed).
    """
    if _clean_stale(directory):
        return None
    pid = _pid_of(directory)
    if pid is None:
        ep = running_endpoints(directory)
        if ep is not None:
            raise SandboxServerError(
                f"{directory} is served by a foreground `raks sandbox serve` (pid {ep.get('pid')}); "
                "stop it where it runs (Ctrl-C)"
            )
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout):
        # It did not shut down in time: a server that ignores SIGTERM is a bug, not a reason to
        # leave an orphan behind.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, 5.0)
        (directory / PID_FILE).unlink(missing_ok=True)
        (directory / ENDPOINTS_FILE).unlink(missing_ok=True)
    return pid


def _wait_gone(pid: int, timeout: float) -> bool:
    child = _children.get(pid)
    if child is not None:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        _children.pop(pid, None)
        return True
    # Not our child: nothing to wait on but the pid itself.
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def status(directory: Path) -> dict[str, Any]:
    """What serves this folder, if anything, and the ports it keeps."""
    _clean_stale(directory)
    ep = running_endpoints(directory)
    pid = _pid_of(directory)
    return {
        "state_dir": str(directory),
        "running": ep is not None,
        "background": ep is not None and pid is not None and int(ep.get("pid") or 0) == pid,
        "pid": ep.get("pid") if ep else None,
        "arm": ep.get("arm") if ep else None,
        "anyscale": ep.get("anyscale") if ep else None,
        "profile": ep.get("profile") if ep else None,
        "ports": remembered_ports(directory),
        "log": str(directory / LOG_FILE) if (directory / LOG_FILE).exists() else None,
    }


def main(argv: list[str]) -> int:
    """`python -m raks.sandbox.daemon DIR PROFILE READY_FD`: the background server (see start())."""
    from raks.sandbox.profiles import parse_profile

    directory, profile, fd = Path(argv[0]), argv[1], int(argv[2])
    try:
        parse_profile(profile)
        serve(directory, profile, background=True, on_ready=lambda _ep: report_ready(fd, "ready"))
    except (ValueError, SandboxServerError) as exc:
        report_ready(fd, str(exc))
        print(f"raks sandbox: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
