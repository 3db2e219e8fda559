import asyncio

import httpx
import requests
from requests import get as fetch


async def report(base, ids):
    r = requests.get(f"{base}/users/{ids[0]}", timeout=5)  # first user
    if not r:
        return r.status_code
    try:
        reply = requests.post(base + "/echo", json={"ids": ids}, auth=("u", "p"))
        reply.raise_for_status()
    except requests.HTTPError as e:
        return e.response.status_code
    except requests.RequestException:
        return None
    page = fetch(base, params={"q": "x"}).text
    with requests.Session() as s:
        for i in ids:
            item = s.get(f"{base}/items/{i}")
            print(item.json(), item.url, len(item.content))
    with httpx.Client(base_url=base) as client:
        data = client.get("/text").text
    return r.json(), reply.status_code, page, data, httpx.get(base).status_code


async def fallbacks(url, **kw):
    def inner():
        return requests.get(url).json()

    a = requests.get(url, **kw)
    b = await asyncio.to_thread(requests.get, url)
    return a, b, inner, [requests.head(u).ok for u in kw]
