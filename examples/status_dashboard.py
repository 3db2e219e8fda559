"""Status dashboard: asks each backend for its status and latency, then writes a JSON report.

Runs offline (the backends are simulated): `time python3 examples/status_dashboard.py`.
"""

import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPORT_PATH = Path(tempfile.gettempdir()) / "status_dashboard.json"


async def fetch_status(service: str) -> dict:
    await asyncio.sleep(0.2)  # stand-in for GET /health
    return {"service": service, "up": service != "mail"}


async def fetch_latency(service: str) -> float:
    await asyncio.sleep(0.2)  # stand-in for GET /metrics
    return 10.0 * len(service)


async def record_event(name: str) -> None:
    await asyncio.sleep(0.01)
    print(f"event: {name}")


def build_version() -> str:
    # Stand-in for `git describe`: a subprocess that takes a moment.
    command = [sys.executable, "-c", "import time; time.sleep(0.3); print('v1.4.2')"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


async def service_report(service: str) -> dict:
    status = await fetch_status(service)
    latency = await fetch_latency(service)
    return {**status, "latency_ms": latency}


async def main() -> None:
    version = build_version()
    reports = []
    for service in ("auth", "billing", "search", "mail"):
        reports.append(await service_report(service))
    with open(REPORT_PATH, "w") as report_file:
        json.dump({"version": version, "services": reports}, report_file, indent=2)
    record_event("dashboard-written")
    down = [r["service"] for r in reports if not r["up"]]
    print(f"{version}: {len(reports)} services, down: {', '.join(down) or 'none'}")


if __name__ == "__main__":
    asyncio.run(main())
