"""Tips 4 and 5 of the article: independent awaits run one after another.

Every coroutine sleeps as a stand-in for a network round trip. Before `asyncmod fix --unsafe-fixes`
the program waits for each in turn (about 3.2 s); after it, the independent ones overlap (about
1 s). The output is the same either way.
"""
import asyncio


async def fetch(name: str, delay: float) -> str:
    await asyncio.sleep(delay)
    return name.upper()


async def summarize(*parts: str) -> str:
    await asyncio.sleep(0.1)
    return "+".join(parts)


async def size(name: str) -> int:
    await asyncio.sleep(0.2)
    return len(name) * 10


async def square(n: int) -> int:
    await asyncio.sleep(0.2)
    return n * n


async def main() -> None:
    # Three independent requests.
    profile = await fetch("profile", 0.3)
    orders: str = await fetch("orders", 0.3)
    settings = await fetch("settings", 0.3)
    # This one needs all three.
    summary = await summarize(profile, orders, settings)
    print("summary:", summary)

    pages = []
    for url in ["a", "bb", "ccc", "dddd"]:
        pages.append(await fetch(url, 0.2))
    print("pages:", pages)

    sizes = {}
    for name in ("x", "yy", "zzz"):
        sizes[name] = await size(name)
    print("sizes:", sizes)

    squares = [await square(n) for n in range(4)]
    print("squares:", squares)


asyncio.run(main())
