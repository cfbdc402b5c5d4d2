"""Latency profiles: how long emulated operations take.

`azure` durations are raks.steps.durations.AZURE_SECONDS: one list, with each figure's source
(shared/reference/azure-facts.md section 6) cited there.
`demo` is `azure` scaled by 0.02 (a 2-region `up` takes tens of seconds); `instant` is 0 for
tests. Any profile can be scaled: "azure:0.01".
"""

from __future__ import annotations

from dataclasses import dataclass

# One source for Azure's typical durations: the progress view and up's estimate cite them too.
from raks.steps.durations import AZURE_SECONDS


@dataclass(frozen=True)
class Profile:
    name: str
    scale: float

    def seconds(self, key: str) -> float:
        base = AZURE_SECONDS.get(key)
        if base is None:
            base = AZURE_SECONDS.get(key.split(".")[0] + ".create", 0.0)
        return base * self.scale

    def spec(self) -> str:
        return f"{self.name}:{self.scale:g}" if self.name != "instant" else "instant"


NAMED = {"instant": 0.0, "demo": 0.02, "azure": 1.0}


def parse_profile(text: str) -> Profile:
    """'instant', 'demo', 'azure' or 'azure:0.01' (a named profile times a factor)."""
    name, _, factor = text.partition(":")
    if name not in NAMED:
        raise ValueError(f"unknown profile '{name}' (use instant, demo, azure, or azure:FACTOR)")
    scale = NAMED[name] if name != "azure" else 1.0
    if factor:
        try:
            scale = (1.0 if name == "instant" else scale) * float(factor)
        except ValueError:
            raise ValueError(f"profile factor '{factor}' is not a number") from None
        if name == "instant":
            scale = 0.0
    if scale < 0:
        raise ValueError("profile factor must not be negative")
    return Profile("azure" if name == "demo" else name, scale)
