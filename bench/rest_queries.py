"""Queries per request for the REST pages of measurement 5, counted inside Django.

Run by bench/rest_scale.py with the Nora tree on PYTHONPATH and its settings; prints one
JSON object {label: number of queries}. Not meant to be run by hand.
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nora.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main() -> None:
    token, *pairs = sys.argv[1:]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = {}
    for pair in pairs:
        label, path = pair.split("=", 1)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        counts[label] = len(queries.captured_queries)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
