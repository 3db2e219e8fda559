"""Builds a report of users from a JSON API, the way a small service would."""

import asyncio
import os

import requests

BASE = os.environ["E2E_BASE"]


async def fetch_user(user_id):
    r = requests.get(f"{BASE}/users/{user_id}", timeout=10)
    if not r:
        return {"id": user_id, "missing": r.status_code}
    data = r.json()
    return {"id": data["id"], "name": data["name"], "active": data["active"]}


async def greeting(who):
    reply = requests.get(BASE + "/text", params={"who": str(who)})
    reply.raise_for_status()
    return reply.text.strip()


async def register(name):
    try:
        r = requests.post(f"{BASE}/echo", json={"name": name, "tags": ["new"]})
        r.raise_for_status()
    except requests.exceptions.RequestException as error:
        return f"failed: {error}"
    body = r.json()
    return f"{r.status_code} {body['received']['name']} ({body['length']} fields)"


async def main():
    users = await asyncio.gather(*(fetch_user(i) for i in [1, 2, 3, 100, 5, 6]))
    for user in users:
        print(user)
    print(await asyncio.gather(greeting("alice"), greeting("bob"), greeting("carol")))
    print(await asyncio.gather(register("dave"), register("erin"), register("frank")))


if __name__ == "__main__":
    asyncio.run(main())
