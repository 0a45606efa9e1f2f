#!/usr/bin/env python3
"""Build the default embedding model for the installers: all-MiniLM-L6-v2 converted to GGUF and
quantized to Q8_0 by Kenning's own converter, with its JSON sidecar (spec + sha256).

    .venv/bin/python installer/prepare_model.py OUT_DIR

Leaves OUT_DIR/all-MiniLM-L6-v2.Q8_0.gguf and OUT_DIR/all-MiniLM-L6-v2.Q8_0.json. A verified
model already in OUT_DIR is kept (the build is offline and takes a few seconds either way).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from kenning.errors import ModelError
from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL
from kenning.models.library import ModelLibrary


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(sys.argv[1]).resolve()
    spec = CATALOGUE[DEFAULT_MODEL]
    names = [spec.file, Path(spec.file).stem + ".json"]
    # OUT_DIR is laid out like a data folder's models/ (a ModelLibrary over OUT_DIR's parent would
    # need the name "models"), so check it by opening a library on a scratch copy of the records.
    if all((out / name).is_file() for name in names):
        with tempfile.TemporaryDirectory() as scratch:
            library = ModelLibrary(Path(scratch))
            for name in names:
                (library.folder / name).symlink_to(out / name)
            try:
                model = library.find(DEFAULT_MODEL)
                if model is not None:
                    library.verified(model)
                    print(f"default model already prepared in {out}")
                    return 0
            except ModelError as exc:
                print(f"rebuilding the default model ({exc})")
    with tempfile.TemporaryDirectory() as scratch:
        model = ModelLibrary(Path(scratch)).prepare_default(progress=lambda message: print(f"  {message}"))
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copyfile(model.path.parent / name, out / name)
            (out / name).chmod(0o644)
    print(f"default model prepared in {out} ({(out / spec.file).stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
