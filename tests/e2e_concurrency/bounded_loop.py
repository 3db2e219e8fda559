"""Tip 6 of the article: a loop over many items, gathered at most N at a time.

`asyncmod fix --unsafe-fixes --max-concurrency 4` turns the loop into a gather through a semaphore.
The program prints whether more than four downloads ever ran at once, so an unbounded gather would
change the output; the bounded one is about four times faster and prints the same.
"""
import asyncio

LIMIT = 4


class Gauge:
    """Counts the downloads in flight, and the most there ever were."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0

    def entered(self) -> None:
        self.running += 1
        self.peak = max(self.peak, self.running)

    def left(self) -> None:
        self.running -= 1


GAUGE = Gauge()


async def download(item: int) -> int:
    GAUGE.entered()
    await asyncio.sleep(0.2)
    GAUGE.left()
    return item * 2


async def main() -> None:
    items = [n for n in range(12)]
    results = []
    for item in items:
        results.append(await download(item))
    print("results:", results)
    print("never more than", LIMIT, "at once:", GAUGE.peak <= LIMIT)


asyncio.run(main())
