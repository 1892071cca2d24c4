"""The demo shop ships a minified build with its source map (issue 16), built from its
TypeScript by scripts/build-demo.sh and committed, so `collector demo` needs no npm."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sourcemap_site import esbuild_missing

DEMO = Path(__file__).parent.parent / "collector" / "demo"
SCRIPT = Path(__file__).parent.parent / "scripts" / "build-demo.sh"


def test_the_shop_script_is_minified_and_names_its_map() -> None:
    script = (DEMO / "static" / "shop.js").read_text()
    assert script.count("\n") <= 2 and "showReceipt" not in script
    assert script.rstrip().endswith("//# sourceMappingURL=shop.js.map")
    shipped = json.loads((DEMO / "static" / "shop.js.map").read_text())
    assert "../src/checkout/receipt.ts" in shipped["sources"]
    assert all(shipped["sourcesContent"])


def test_the_committed_build_is_the_build_of_the_sources(tmp_path: Path) -> None:
    missing = esbuild_missing()
    if missing:
        if __import__("os").environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    shutil.copytree(DEMO / "src", tmp_path / "src")
    subprocess.run(["sh", str(SCRIPT), str(tmp_path)], check=True, timeout=60)
    for name in ("shop.js", "shop.js.map"):
        assert (tmp_path / "static" / name).read_bytes() == (DEMO / "static" / name).read_bytes(), (
            f"collector/demo/static/{name} is stale: run sh scripts/build-demo.sh"
        )
