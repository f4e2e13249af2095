"""Run the benchmark queries against a gateway and record token usage per query."""

import json
import sys
from pathlib import Path


def load_queries(path: str) -> list[dict]:
    return json.loads(Path(path).read_text())


def main() -> None:
    queries = load_queries(sys.argv[1])
    print(f"running {len(queries)} queries")


if __name__ == "__main__":
    main()
