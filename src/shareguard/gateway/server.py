"""Running the filter: the LMTP listener, the scanning processes, the
re-injection pool and the release loop in one asyncio process."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import structlog

from shareguard.config import Settings
from shareguard.errors import ConfigError
from shareguard.gateway.assess import init_worker
from shareguard.gateway.handler import FilterHandler
from shareguard.gateway.ledger import Ledger
from shareguard.gateway.protocol import FilterLMTP
from shareguard.gateway.reinject import Reinjector
from shareguard.gateway.release import Releaser
from shareguard.store.db import make_engine, upgrade

log = structlog.get_logger(__name__)

# In-flight messages get this long to finish on SIGTERM; the rest are
# answered by the connection closing, and Postfix retries them.
DRAIN_SECONDS = 20.0


def host_port(value: str, what: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ConfigError(f"{what} must be host:port, not {value!r}")
    return host.strip("[]"), int(port)


class ScanPool:
    """The scanning processes.  A worker that dies (out of memory on a
    hostile attachment, killed) breaks the pool: the messages in it get
    451, and the next message gets a fresh pool."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: ProcessPoolExecutor | None = None
        # spawn, not fork: forking a process with a running event loop and
        # open database connections copies both.
        self._context = multiprocessing.get_context("spawn")

    def get(self) -> Executor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.settings.gateway.scan_workers,
                mp_context=self._context,
                initializer=init_worker,
                initargs=(self.settings,),
            )
        return self._pool

    def broken(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def warm_up(self) -> None:
        """Start every worker (each loads the scanner once) before the
        first message arrives."""
        loop = asyncio.get_running_loop()
        pool = self.get()
        await asyncio.gather(
            *(loop.run_in_executor(pool, _ready) for _ in range(self.settings.gateway.scan_workers))
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _ready() -> bool:
    return True


@dataclass
class Gateway:
    settings: Settings
    listen: str
    reinject: str

    async def serve(self) -> None:
        gw = self.settings.gateway
        listen_host, listen_port = host_port(self.listen, "--listen")
        re_host, re_port = host_port(self.reinject, "--reinject")
        upgrade(self.settings)
        engine = make_engine(self.settings)
        root_key = self.settings.secret_key_bytes()  # before the workers race for it
        pool = ScanPool(self.settings)
        await pool.warm_up()
        reinjector = Reinjector(
            re_host, re_port, timeout=gw.reinject_timeout_seconds, size=gw.concurrency + 1
        )
        wake = asyncio.Event()
        handler = FilterHandler(
            executor=pool.get,
            on_broken=pool.broken,
            ledger=Ledger(engine),
            reinjector=reinjector,
            concurrency=gw.concurrency,
            slot_wait=gw.slot_wait_seconds,
            timeout=gw.message_timeout_seconds,
            on_hold=wake.set,
        )
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: FilterLMTP(
                handler,
                data_size_limit=gw.max_message_bytes,
                enable_SMTPUTF8=True,
                decode_data=False,
                ident="ShareGuard gateway",
                loop=loop,
            ),
            listen_host,
            listen_port,
            reuse_address=True,
        )
        releaser = Releaser(engine, root_key, reinjector, gw.postmaster)
        release_task = asyncio.create_task(releaser.run_forever(gw.release_interval_seconds, wake))
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("gateway.listening", listen=self.listen, reinject=self.reinject)
        print(f"listening on {listen_host}:{listen_port}", flush=True)
        try:
            await stop.wait()
        finally:
            log.info("gateway.stopping")
            server.close()
            release_task.cancel()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), DRAIN_SECONDS)
            await reinjector.close()
            pool.close()
            engine.dispose()
