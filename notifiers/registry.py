"""Channel kinds by name: config's `type = "…"` → the class. One line per channel kind."""

from __future__ import annotations

from notifiers.email import Email
from notifiers.wecom import WeCom

CHANNELS: dict[str, type] = {"wecom": WeCom, "email": Email}
