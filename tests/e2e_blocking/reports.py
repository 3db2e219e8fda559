"""Sync helpers of the project: they shell out and read a file, so they block."""

import subprocess
from pathlib import Path

TEMPLATE = Path(__file__).with_name("template.txt")


def render(name):
    # Blocks twice: a child process that takes 0.3 s, then a file read.
    subprocess.run(["sleep", "0.3"], check=True)
    return read_template().format(label=name.upper())


def read_template():
    with open(TEMPLATE, encoding="utf-8") as template:
        return template.read().strip()
