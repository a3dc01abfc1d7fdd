"""The command line on a store the earlier local-only pack wrote: its profiles carry
`created: 0` (it kept no creation time), which is unknown, not 1970-01-01."""

from __future__ import annotations

import json

from pool_profiles import registry
from pool_profiles.backends import open_store
from pool_profiles.cli import main


def test_profiles_without_a_creation_time_list_as_unknown(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    root = str(tmp_path / "store")
    store = open_store(root)
    entries = [
        {"id": "old1", "name": "Old set", "created": 0},
        {"id": "old2", "name": "No time"},
    ]
    store.write_bytes(registry.REGISTRY_KEY, json.dumps({"profiles": entries}).encode())
    new = registry.create_profile(store, "New set")
    assert main(["--store", root, "profiles", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines if line.strip()}
    assert "1970" not in "\n".join(lines)
    assert "unknown" in rows["old1"] and "unknown" in rows["old2"]
    assert "unknown" not in rows[new["id"]]
    # The names stay in one column whatever the date says.
    columns = {rows["old1"].index("Old set"), rows["old2"].index("No time")}
    assert columns == {rows[new["id"]].index("New set")}
