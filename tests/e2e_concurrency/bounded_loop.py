"""Tip 6 of the article: a loop over many items, gathered at most N at a time.

`asyncmod fix --unsafe-fixes --max-concurrency 4` turns the loop into a gather through a semaphore.
The program prints whether more than four downloads ever ran at once, so an unbounded gather would
change the output; the bounded one is about four times faster and prints the same.
"""
import asyncio

LIMIT = 4
running = 0
peak = 0


async def download(item: int) -> int:
    global running, peak
    running += 1
    peak = max(peak, running)
    await asyncio.sleep(0.2)
    running -= 1
    return item * 2


async def main() -> None:
    items = [n for n in range(12)]
    results = []
    for item in items:
        results.append(await download(item))
    print("results:", results)
    print("never more than", LIMIT, "at once:", peak <= LIMIT)


asyncio.run(main())
