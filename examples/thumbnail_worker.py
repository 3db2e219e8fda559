"""Background worker: pull thumbnail jobs off a queue, resize, upload.

In production the queue is fed by the upload API; here `seed_jobs` fills it
so the file can be run on its own.
"""

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from time import sleep

log = logging.getLogger("thumbnail_worker")

MAX_ATTEMPTS = 3
WORKERS = 4


@dataclass
class Job:
    job_id: int
    image_path: str
    attempts: int = 0


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


async def upload(job: Job, data: bytes) -> str:
    # Stand-in for the object-store PUT until the storage client is wired up.
    sleep(0.2)
    return f"s3://thumbs/{job.job_id}-{checksum(data)}.jpg"


async def process(job: Job) -> str:
    def resize() -> bytes:
        # Runs in a worker thread via asyncio.to_thread below, never on the
        # event loop, so this blocking sleep is fine and must stay as it is.
        sleep(0.05)
        return f"thumb:{job.image_path}".encode()

    data = await asyncio.to_thread(resize)
    return await upload(job, data)


async def worker(name: str, queue: asyncio.Queue, results: dict[int, str]) -> None:
    while True:
        job = await queue.get()
        try:
            results[job.job_id] = await process(job)
            log.debug("%s finished job %d", name, job.job_id)
        except OSError:
            job.attempts += 1
            if job.attempts < MAX_ATTEMPTS:
                sleep(1.0 * job.attempts)  # linear backoff before re-queueing
                queue.put_nowait(job)
        finally:
            queue.task_done()


async def report_progress(queue: asyncio.Queue) -> None:
    while not queue.empty():
        log.info("%d jobs waiting", queue.qsize())
        await asyncio.sleep(0.25)


async def seed_jobs(queue: asyncio.Queue, count: int) -> None:
    for i in range(count):
        await queue.put(Job(i, f"/uploads/{i}.png"))


async def main() -> None:
    logging.basicConfig(level=logging.INFO)
    queue: asyncio.Queue = asyncio.Queue()
    results: dict[int, str] = {}
    await seed_jobs(queue, 12)

    # Everything started here is owned by the TaskGroup, which waits for it
    # (or cancels it) before the block exits: nothing is fire-and-forget, so
    # asyncmod leaves these create_task calls alone.
    async with asyncio.TaskGroup() as tg:
        tg.create_task(report_progress(queue))
        workers = [tg.create_task(worker(f"w{i}", queue, results)) for i in range(WORKERS)]
        await queue.join()
        for w in workers:
            w.cancel()

    for job_id, url in sorted(results.items()):
        print(job_id, url)


if __name__ == "__main__":
    asyncio.run(main())
