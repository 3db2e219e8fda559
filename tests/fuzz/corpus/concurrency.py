import asyncio


async def fetch(key):
    await asyncio.sleep(0)
    return key


class Store:
    async def load(self, user_id):
        # profile and orders
        profile = await fetch(user_id)
        orders: list = await fetch(str(user_id))  # orders
        a, b = await fetch((1, 2))
        self.cache[user_id] = await fetch(profile)
        rows = await self.db.fetch(1)
        more = await self.db.fetch(2)
        await asyncio.sleep(0)
        return profile, orders, a, b, rows, more


async def loops(self):
    pages = []
    for url in ["a", "b"]:
        pages.append(await fetch(url))
    sizes = {}
    for name in ("a", "b"):
        # by name
        sizes[name] = await fetch(name)
    for n in range(3):
        await fetch(n)
    firsts = [await fetch(u) for u in ["a", "b"] if u]
    try:
        x = await fetch(1)
        y = await fetch(2)
    except KeyError:
        pass
    return pages, sizes, firsts, x, y
