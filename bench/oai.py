"""Walk a ListIdentifiers chain over a synthetic oai_item table; print peak memory and speed.

    .venv/bin/python bench/oai.py [ROWS] [PAGE]      (defaults: 100000 rows, pages of 500)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    page = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    home = tempfile.mkdtemp(prefix="lienhop-oai-bench-")
    os.environ.update(LIENHOP_HOME=home, LIENHOP_ENV="testing", LIENHOP_SECRET_KEY="bench")  # noqa: S106
    from lxml import etree

    from resolver import create_app
    from tests.support.oai import add_items as _add_items

    app = create_app()
    app.config["OAI_PAGE_SIZE"] = page
    t = time.perf_counter()
    _add_items(app.extensions["lienhop.sessions"], rows)
    print(f"loaded {rows} rows in {time.perf_counter() - t:.1f}s")
    c = app.test_client()
    tracemalloc.start()
    t, n = time.perf_counter(), 0
    resp = c.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
    while True:
        body = resp.get_data()
        n += body.count(b"<header")
        tok = etree.fromstring(body).find(".//{http://www.openarchives.org/OAI/2.0/}resumptionToken")
        if tok is None or not tok.text:
            break
        resp = c.get("/oai", query_string={"verb": "ListIdentifiers", "resumptionToken": tok.text})
    secs = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    print(f"ListIdentifiers walk: {n} headers, page {page}, {secs:.1f}s, {n / secs:.0f} headers/s,"
          f" peak traced memory {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
