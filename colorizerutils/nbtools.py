"""Keep committed notebooks clean: no outputs, no execution counts (``make strip``)."""
from __future__ import annotations

import sys

import nbformat


def strip(path: str) -> bool:
    """Remove outputs and execution counts in place; returns True when the file changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count = [], None
            changed = True
        for key in ("execution", "papermill"):
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "strip":
        raise SystemExit("usage: python -m colorizerutils.nbtools strip NOTEBOOK...")
    for p in sys.argv[2:]:
        print(("stripped " if strip(p) else "clean    ") + p)
