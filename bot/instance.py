"""One running service per database: an exclusive lock file beside it. Two services on one database
would scan twice and race each other's deliveries; the second one says who holds the lock and exits."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class AlreadyRunning(RuntimeError):
    pass


class InstanceLock:
    def __init__(self, database: Path) -> None:
        self.path = Path(str(database) + ".lock")
        self._fh: IO[str] | None = None

    def acquire(self) -> InstanceLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the life of the service)
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise AlreadyRunning(
                f"另一个 nianbao 实例（pid {holder}）正在使用数据库 {str(self.path)[:-5]}，本实例退出 / "
                f"another instance (pid {holder}) holds this database"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh  # the kernel releases the lock when the process ends, however it ends
        return self

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
