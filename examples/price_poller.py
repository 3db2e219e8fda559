"""Poll a few storefront APIs and log price drops on watched SKUs.

Runs as a long-lived service: every POLL_INTERVAL seconds it fetches the
current price of each SKU from each store, compares it with the last price it
saw, and logs a line when something got cheaper.
"""

import asyncio
import logging
import time

import requests

log = logging.getLogger("price_poller")

STORES = {
    "acme": "https://api.acme.example/v2/products/{sku}",
    "globex": "https://globex.example/catalog/{sku}.json",
}
DEFAULT_WATCHLIST = ["KB-104", "MS-220", "HD-900"]
POLL_INTERVAL = 60.0
# Both storefronts rate-limit us to roughly two requests per second per host.
REQUEST_SPACING = 0.5


def load_watchlist(path: str) -> list[str]:
    """Read SKUs from a file, retrying while the config volume is mounting.

    A plain function, so asyncmod leaves its `time.sleep` as it is. But `main`,
    which calls it at startup, is a coroutine: the event loop is already running
    there and the retries would freeze it, so asyncmod moves that call to a thread.
    """
    for attempt in range(5):
        try:
            with open(path) as f:
                return [line.strip() for line in f if line.strip()]
        except FileNotFoundError:
            time.sleep(2**attempt)
    return list(DEFAULT_WATCHLIST)


async def fetch_price(store: str, sku: str) -> float | None:
    url = STORES[store].format(sku=sku)
    # TODO: switch to aiohttp; requests blocks the event loop as well.
    resp = requests.get(url, timeout=10)
    if resp.status_code == 429:
        # Back off before the next request hits the same host.
        time.sleep(float(resp.headers.get("Retry-After", "5")))
        return None
    resp.raise_for_status()
    return float(resp.json()["price"])


async def poll_store(store: str, skus: list[str], last_seen: dict) -> None:
    for sku in skus:
        price = await fetch_price(store, sku)
        if price is not None:
            previous = last_seen.get((store, sku))
            if previous is not None and price < previous:
                log.info("%s %s dropped %.2f -> %.2f", store, sku, previous, price)
            last_seen[(store, sku)] = price
        time.sleep(REQUEST_SPACING)  # stay under the per-host rate limit


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    skus = load_watchlist("/etc/price-poller/watchlist.txt")
    last_seen: dict[tuple[str, str], float] = {}
    while True:
        started = time.monotonic()
        # One poller per store, so a slow host doesn't hold up the others.
        await asyncio.gather(*(poll_store(store, skus, last_seen) for store in STORES))
        elapsed = time.monotonic() - started
        log.debug("poll round took %.1fs", elapsed)
        time.sleep(max(0.0, POLL_INTERVAL - elapsed))


if __name__ == "__main__":
    asyncio.run(main())
