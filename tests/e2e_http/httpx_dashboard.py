"""A dashboard that pulls from the same API with httpx."""

import asyncio
import os

import httpx

BASE = os.environ["E2E_BASE"]


async def user_name(user_id):
    response = httpx.get(f"{BASE}/users/{user_id}", timeout=10)
    if response.status_code != 200:
        return None
    return response.json()["name"]


async def pages(first, last):
    with httpx.Client(base_url=BASE) as client:
        found = []
        for page in range(first, last):
            found.extend(client.get("/items", params={"page": page}).json()["items"])
        return found


async def main():
    print(await asyncio.gather(*(user_name(i) for i in (1, 2, 100, 4, 5, 6))))
    print(await asyncio.gather(pages(0, 2), pages(2, 4), pages(4, 6)))


if __name__ == "__main__":
    asyncio.run(main())
