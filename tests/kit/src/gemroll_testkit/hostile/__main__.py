"""`python -m gemroll_testkit.hostile write DIR`: the hostile corpus as files, with index.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .corpus import corpus


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "write":
        print(__doc__)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for f in corpus():
        (out / f.name).write_bytes(f.data)
        index.append({"name": f.name, "category": f.category, "expect": f.expect,
                      "content_type": f.content_type, "upload_name": f.upload_name,
                      "bytes": len(f.data)})
    (out / "index.json").write_text(json.dumps(index, indent=1))
    print(f"{len(index)} files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
