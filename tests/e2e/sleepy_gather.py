"""End-to-end fixture for asyncmod (driven by tests/e2e.rs).

Every coroutine below blocks the event loop with a synchronous sleep, so
`asyncio.gather` ends up running them one after another. After `asyncmod fix`
they await `asyncio.sleep` instead and overlap, so the program gets several
times faster while printing exactly the same output.

The output must be deterministic: results in gather order, never timings.

Each `time` import form is used at least once inside a coroutine:
  * `import time` and `from time import sleep` are still needed afterwards
    (sync helper, nested plain def), so they must survive the fix;
  * `import time as clock` and `from time import sleep as nap` are only used
    in coroutines, so they become unused and may be removed.
"""

import asyncio
import time
import time as clock
from time import sleep
from time import sleep as nap

DELAY = 0.3


def slow_square(n):
    # Plain sync helper: blocking here is fine and must be left alone.
    time.sleep(0.01)
    return n * n


async def fetch_user(user_id):
    time.sleep(DELAY)
    return f"user:{user_id}"


async def fetch_orders(user_id):
    clock.sleep(DELAY)
    return [f"order:{user_id}:{i}" for i in range(2)]


async def fetch_inventory():
    sleep(DELAY)
    return {"gadgets": 5, "widgets": 3}


async def fetch_shipping(user_id):
    # Polls a (pretend) carrier API three times.
    statuses = []
    for step in ("label", "pickup", "transit"):
        clock.sleep(DELAY / 3)
        statuses.append(f"{step}:{user_id}")
    return statuses


async def build_report(n):
    def crunch():
        # A plain def nested in a coroutine runs in a worker thread
        # (asyncio.to_thread below); its blocking sleep must stay.
        sleep(0.02)
        return slow_square(n)

    value = await asyncio.to_thread(crunch)
    nap(DELAY)
    return f"report:{value}"


async def record_audit(audit_log, done, entry):
    nap(0.05)
    audit_log.append(entry)
    done.set()


def report_background_failure(loop, context):
    # Installed as the loop's exception handler. The audit task succeeds, so
    # this must never fire, before or after the fix; if it did, the two runs'
    # outputs would differ and the test would fail.
    exc = context.get("exception")
    print(f"background failure reported: {context.get('message')}: {exc!r}")


async def main():
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(report_background_failure)

    audit_log = []
    audit_done = asyncio.Event()
    # Fire-and-forget: nothing keeps a reference to this task.
    asyncio.create_task(record_audit(audit_log, audit_done, "batch started"))

    results = await asyncio.gather(
        fetch_user(7),
        fetch_orders(7),
        fetch_inventory(),
        fetch_shipping(7),
        build_report(12),
    )
    for result in results:
        print(result)

    await audit_done.wait()
    print("audit:", audit_log)


if __name__ == "__main__":
    print("warm-up:", slow_square(3))
    asyncio.run(main())
