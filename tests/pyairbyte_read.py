"""One PyAirbyte read of source-billcom into PyAirbyte's default local cache (DuckDB, under
the working directory's .cache/), run by tests/test_pyairbyte.py with .venv-airbyte's
Python (PyAirbyte pins its own dependencies, so it is kept out of .venv).

    python tests/pyairbyte_read.py SOURCE_EXECUTABLE CONFIG_JSON

Prints one JSON object: the connection check's outcome, the records read, the rows of every
stream in the cache, and each stream's state as the cache keeps it for the next read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import airbyte as ab


def main(executable: str, config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    source = ab.get_source("source-billcom", local_executable=executable, config=config)
    source.check()
    source.select_all_streams()
    cache = ab.get_default_cache()
    result = source.read(cache=cache)
    states = cache.get_state_provider(source_name=source.name)
    summary = {
        "cache": str(cache.db_path),
        "processed_records": result.processed_records,
        "rows": {name: len(dataset) for name, dataset in cache.streams.items()},
        "states": {
            name: states.get_stream_state(name).stream.stream_state.dict()
            for name in states.known_stream_names
        },
        "bills": [
            {"id": row["id"], "amount": str(row["amount"]), "description": row["description"]}
            for row in cache["bills"].to_pandas().to_dict("records")
        ],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main(*sys.argv[1:])
