"""Checks a set of endpoints and pages through a listing with one session per worker."""

import asyncio
import os

import requests
from requests.exceptions import HTTPError

BASE = os.environ["E2E_BASE"]


async def check(path):
    try:
        resp = requests.head(BASE + path, allow_redirects=True, timeout=(2, 5))
        resp.raise_for_status()
    except HTTPError as e:
        return f"{path}: down ({e.response.status_code})"
    return f"{path}: up ({resp.status_code}, ok={resp.ok}, {resp.reason})"


async def collect(worker, pages):
    items = []
    with requests.Session() as s:
        for page in pages:
            r = s.get(f"{BASE}/items", params={"page": str(page)})
            items.extend(r.json()["items"])
    return worker, items


async def status_of(code):
    return requests.get(f"{BASE}/status/{code}").status_code


async def main():
    paths = ["/text", "/status/200", "/status/404", "/status/503", "/users/1", "/status/204"]
    for line in await asyncio.gather(*(check(p) for p in paths)):
        print(line)
    workers = await asyncio.gather(collect("a", [0, 1]), collect("b", [2, 3]), collect("c", [4, 5]))
    print(sorted(workers))
    print(await asyncio.gather(*(status_of(c) for c in (200, 201, 404, 500))))


if __name__ == "__main__":
    asyncio.run(main())
