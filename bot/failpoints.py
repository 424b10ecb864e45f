"""Named crash points for the crash tests: NIANBAO_FAILPOINT="after_send:3" kills this process with
SIGKILL the third time delivery passes "after_send". Unset (always, in production) it costs a dict
lookup. A real kill -9, not an exception: nothing gets to clean up, exactly as in a power cut."""

from __future__ import annotations

import os
import signal

_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    spec = os.environ.get("NIANBAO_FAILPOINT")
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
