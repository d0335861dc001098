"""Grounding evaluation, the same as `whyrec eval grounding`: balanced accuracy of the checker and of an
embedding-similarity baseline on the product-domain claims, SummEdits and WiCE; confusion per rule; claims/s.

    .venv/bin/python eval/grounding.py --out eval/results/grounding.json
"""

import sys

from whyrec.cli import app

if __name__ == "__main__":
    app(["eval", "grounding", *sys.argv[1:]])
