"""CI-contract tests: raks run as a pipeline runs it, against a sandbox served from a temp folder.

`served.run` starts the real `raks` in a subprocess with no terminal (stdin /dev/null, pipes for
stdout and stderr), as a CI runner does; `served.raks` runs it in-process (faster, same code).
"""

from __future__ import annotations
