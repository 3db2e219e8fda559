"""A slow local HTTP API for the end-to-end test: every handler sleeps before answering.

Listens on 127.0.0.1 on a free port and prints `PORT <n>` once it is ready.
"""

import asyncio
import sys

from aiohttp import web

DELAY = float(sys.argv[1]) if len(sys.argv) > 1 else 0.2


async def user(request):
    await asyncio.sleep(DELAY)
    user_id = int(request.match_info["id"])
    if user_id >= 100:
        return web.json_response({"error": "no such user"}, status=404)
    return web.json_response({"id": user_id, "name": f"user-{user_id}", "active": user_id % 3 != 0})


async def text(request):
    await asyncio.sleep(DELAY)
    return web.Response(text=f"hello {request.query.get('who', 'world')}\n", content_type="text/plain")


async def items(request):
    await asyncio.sleep(DELAY)
    page = int(request.query.get("page", "0"))
    return web.json_response({"page": page, "items": [page * 10 + i for i in range(3)]})


async def echo(request):
    await asyncio.sleep(DELAY)
    payload = await request.json()
    return web.json_response({"received": payload, "length": len(payload)}, status=201)


async def status(request):
    await asyncio.sleep(DELAY)
    return web.Response(status=int(request.match_info["code"]), text="status")


async def main():
    app = web.Application()
    app.add_routes([
        web.get("/users/{id}", user),
        web.get("/text", text),
        web.get("/items", items),
        web.post("/echo", echo),
        web.get("/status/{code}", status),
    ])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
