"""The emulated world: persisted state, clock, faults, request log and the APIs over them.

Every request goes through `World.dispatch` under one lock (emulated APIs need no locking of
their own); long-running operations complete lazily by wall-clock time (`settle`), so an
operation started by a process that was killed still finishes for the next one.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from raks.sandbox import faults
from raks.sandbox.http import Request, Response
from raks.sandbox.profiles import Profile, parse_profile
from raks.sandbox.request_log import RequestLog
from raks.sandbox.state import REQUEST_LOG, StateDir


class World:
    def __init__(self, state_dir: Path, profile: Profile | str = "instant") -> None:
        from raks.sandbox.anyscale_api import AnyscaleApi
        from raks.sandbox.arm import ArmApi
        from raks.sandbox.control import ControlApi
        from raks.sandbox.graph import GraphApi
        from raks.sandbox.kube import KubeRouter
        from raks.sandbox.prices import PricesApi

        self.dir = StateDir(state_dir)
        self.state: dict[str, Any] = self.dir.load()
        self.profile = parse_profile(profile) if isinstance(profile, str) else profile
        self.lock = threading.RLock()
        self.base_url = ""  # set once the server listens
        self.anyscale_url = ""
        self.log = RequestLog(state_dir / REQUEST_LOG)
        self.requests: list[dict[str, Any]] = self.log.entries
        self.ca_file: Path | None = None  # set by the runner once TLS files exist
        self._local = threading.local()
        self.arm = ArmApi(self)
        self.kube = KubeRouter(self)
        self.anyscale = AnyscaleApi(self)
        self.graph = GraphApi(self)
        self.prices = PricesApi(self)
        self.control = ControlApi(self)

    # -- clock and persistence ------------------------------------------------------------
    def now(self) -> float:
        return time.time()

    @property
    def subscription_id(self) -> str:
        return str(self.state["subscription_id"])

    @property
    def tenant_id(self) -> str:
        return str(self.state["tenant_id"])

    def save(self) -> None:
        self.dir.save(self.state)

    def next_counter(self, name: str) -> int:
        counters = self.state.setdefault("counters", {})
        counters[name] = counters.get(name, 0) + 1
        return int(counters[name])

    def close(self) -> None:
        with self.lock:
            self.save()
            self.log.close()

    # -- requests -----------------------------------------------------------------------
    def ca_pem(self) -> bytes:
        return self.ca_file.read_bytes() if self.ca_file else b""

    def hold_response(self, seconds: float) -> None:
        """Keep this request in flight a little longer (its effect lasts while it is in flight)."""
        self._local.hold = max(getattr(self._local, "hold", 0.0), seconds)

    def request_delay(self, req: Request) -> float:
        hold, self._local.hold = getattr(self._local, "hold", 0.0), 0.0
        if req.path.startswith("/_sandbox"):
            return 0.0
        return max(hold, self.profile.seconds("request"))

    def dispatch(self, req: Request, *, api: str = "main", started: float | None = None) -> Response:
        started = time.time() if started is None else started
        with self.lock:
            resp = self._dispatch_locked(req, api)
            if req.method != "GET" or self.arm.settled_something:
                self.save()
            self.arm.settled_something = False
            kind = self._api_of(req, api)
            if kind == "control":
                return resp
            kube_tokens = [str(c["token"]) for c in self.state["kube"].values()]
            entry = {
                "api": kind,
                "method": req.method,
                "path": req.raw_path,
                "query": {k: v[0] for k, v in req.query.items() if v},
                "status": 0 if resp.reset else resp.status,
                "start": started,
                "end": time.time(),
                "credential": self.log.credential_label(req, kind, kube_tokens),
            }
            self.log.record(entry)
        return resp

    @staticmethod
    def _api_of(req: Request, api: str) -> str:
        if api == "anyscale":
            return "anyscale"
        if req.path.startswith("/_sandbox"):
            return "control"
        if req.path.startswith("/k8s/"):
            return "kube"
        if req.path.startswith("/graph/"):
            return "graph"
        if req.path.startswith("/prices/"):
            return "prices"  # the Retail Prices API (sandbox/prices.py)
        return "arm"

    def _dispatch_locked(self, req: Request, api: str) -> Response:
        kind = self._api_of(req, api)
        if kind == "control":
            return self.control.handle(req)
        rule = faults.take(self.state["faults"], req.method, f"{kind}:{req.path}")
        if rule is None:
            rule = faults.take(self.state["faults"], req.method, req.path)
        if rule is not None and rule.hold:
            self.hold_response(rule.hold)
        elif rule is not None and not rule.lro_failed:
            return self.fault_response(kind, rule)
        if kind == "anyscale":
            return self.anyscale.handle(req)
        if kind == "kube":
            return self.kube.handle(req)
        if kind == "graph":
            return self.graph.handle(req)
        if kind == "prices":
            return self.prices.handle(req)
        return self.arm.handle(req, lro_fault=rule if rule is not None and rule.lro_failed else None)

    @staticmethod
    def fault_response(kind: str, rule: faults.FaultRule) -> Response:
        if rule.reset:
            return Response(0, reset=True)
        headers = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = f"{rule.retry_after:g}"
        if kind == "kube":
            body: dict[str, Any] = {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "message": rule.message,
                "reason": rule.code,
                "code": rule.status,
            }
        elif kind == "anyscale":
            body = {"error": {"detail": rule.message, "code": rule.code}}
        elif kind == "graph":
            body = {"error": {"code": rule.code, "message": rule.message, "innerError": {}}}
        elif kind == "prices":
            body = {"Error": {"Code": rule.code, "Message": rule.message}}
        else:
            body = {"error": {"code": rule.code, "message": rule.message}}
        return Response(rule.status, body, headers)
