"""TCP health checks for internal services, with alerts on status changes.

`run_checks` probes every service concurrently; `watch` repeats that on an
interval and fires an alert whenever a service flips between up and down.
"""

import asyncio
import socket
import sys
from time import sleep as nap

SERVICES = {
    "db": ("db.internal", 5432),
    "cache": ("cache.internal", 6379),
    "search": ("search.internal", 9200),
}
CHECK_INTERVAL = 15


async def tcp_check(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def check_with_retry(name: str, host: str, port: int) -> tuple[str, bool]:
    for attempt in range(3):
        if await tcp_check(host, port):
            return name, True
        nap(0.5 * (attempt + 1))  # give a restarting service a moment
    return name, False


async def run_checks() -> dict[str, bool]:
    results = await asyncio.gather(
        *(check_with_retry(name, host, port) for name, (host, port) in SERVICES.items())
    )
    return dict(results)


async def alert(name: str, healthy: bool) -> None:
    state = "UP" if healthy else "DOWN"
    print(f"[alert] {name} is {state}", file=sys.stderr)


async def watch() -> None:
    previous: dict[str, bool] = {}
    while True:
        status = await run_checks()
        for name, healthy in status.items():
            if previous.get(name, True) != healthy:
                asyncio.create_task(alert(name, healthy))
        previous = status
        nap(CHECK_INTERVAL)


def wait_for_dns(host: str, attempts: int = 10) -> None:
    """Block until `host` resolves. Runs before the event loop starts."""
    for _ in range(attempts):
        try:
            socket.gethostbyname(host)
            return
        except socket.gaierror:
            nap(1)
    raise SystemExit(f"cannot resolve {host}")


async def main() -> None:
    # Kept in a variable and awaited, so this task is not dangling.
    first_round = asyncio.create_task(run_checks())
    print("initial status:", await first_round)
    await watch()


if __name__ == "__main__":
    wait_for_dns("db.internal")
    asyncio.run(main())
