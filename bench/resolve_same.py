"""Do two checkouts answer the same OpenURLs the same way? The resolver's hot path is tuned
for speed; this checks that no answer changed.

    .venv/bin/python bench/resolve_same.py --baseline /tmp/lienhop-previous [--urls 10000]

Each checkout (this one and ``--baseline``, a ``git worktree`` of the code before) builds the
same instance in a temporary directory (bench/resolve.py's knowledge base, same seed), answers
every OpenURL of the workload through ``/resolve/api`` and ``/resolve`` (menu) and, after
each, follows the answer's first ``/go/`` link; it writes what came back: status, headers and
body, with each ``/go/`` token replaced by its payload (a token also carries the time and a
random number, which differ on every call) and the menu's CSRF token (and the session
cookie that carries it) left out; and the rows of the request log (resolutions and clicks,
without ids and times). The two files must be equal; the first differences are
printed. The OpenURLs are the real ones of ../shared/data/openurl (never copied into the
project).
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_GO = re.compile(r"/go/([A-Za-z0-9_.\-]+)")
#: the menu's form token: random per visitor
_CSRF = re.compile(r'(name="csrf_token" value=")[^"]*"')
#: the signed session cookie that carries it
_SESSION = re.compile(r"^(session=)[^;]*")


def _bench_module():  # type: ignore[no-untyped-def]
    """bench/resolve.py of this checkout (the workload), loaded without its path entry."""
    spec = importlib.util.spec_from_file_location("bench_resolve", ROOT / "bench" / "resolve.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dump(tree: Path, out: Path, n_urls: int, titles: int) -> None:
    """Answer the workload with the checkout ``tree``; write what came back to ``out``."""
    br = _bench_module()
    while str(ROOT) in sys.path:  # the checkout under test, not this one
        sys.path.remove(str(ROOT))
    sys.path.insert(0, str(tree))
    from itsdangerous import URLSafeTimedSerializer

    from resolver import create_app

    app = create_app()
    rng = random.Random(20261121)
    urls = br.real_openurls()
    codes = br.build_kb(app.extensions["lienhop.sessions"], urls, titles, 20, 130, rng)
    work = br.workload(urls, codes, n_urls, rng)
    app = create_app()
    client = app.test_client()
    tokens = URLSafeTimedSerializer(app.secret_key, salt="lienhop.go.v2")

    def opened(match: re.Match[str]) -> str:
        payload = tokens.loads(match.group(1))
        return "/go/" + json.dumps(payload[:-1], ensure_ascii=False)  # the last is random

    with out.open("w", encoding="utf-8") as f:
        for q, ip in work:
            for path in ("/resolve/api?", "/resolve?"):
                r = client.get(path + q, environ_base={"REMOTE_ADDR": ip or "127.0.0.1"})
                body = r.get_data(as_text=True)
                headers = sorted((k, _SESSION.sub(r"\1…", v)) for k, v in r.headers.items()
                                 if k not in ("Content-Length", "Date"))
                f.write(json.dumps([path, q, ip, r.status_code, headers,
                                    _CSRF.sub(r'\1…"', _GO.sub(opened, body))],
                                   ensure_ascii=False) + "\n")
                first = _GO.search(body)
                if first:
                    go = client.get("/go/" + first.group(1))
                    f.write(json.dumps(["go", go.status_code, go.headers.get("Location")],
                                       ensure_ascii=False) + "\n")
        from resolver.usage.logbuffer import flush_all

        flush_all()
        with app.extensions["lienhop.engine"].connect() as conn:
            from sqlalchemy import text

            for table in ("resolve_log", "click_log"):
                rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).mappings()
                for row in rows:
                    f.write(json.dumps([table, {k: v for k, v in row.items()
                                                if k not in ("id", "at")}],
                                       ensure_ascii=False, default=str) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, required=True, metavar="CHECKOUT")
    ap.add_argument("--urls", type=int, default=10_000)
    ap.add_argument("--titles", type=int, default=5_000)
    ap.add_argument("--dump", nargs=2, metavar=("TREE", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.dump:
        dump(Path(args.dump[0]), Path(args.dump[1]), args.urls, args.titles)
        return
    tmp = Path(tempfile.mkdtemp(prefix="lienhop-resolve-same-"))
    try:
        outs = []
        for name, tree in (("baseline", args.baseline.resolve()), ("this tree", ROOT)):
            env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
            env.update({"LIENHOP_HOME": str(tmp / name / "instance"),
                        "LIENHOP_ENV": "production", "LIENHOP_SECRET_KEY": "same-secret",
                        "LIENHOP_LOG_LEVEL": "ERROR", "LIENHOP_RATE_LIMIT": "0"})
            out = tmp / f"{name.replace(' ', '-')}.jsonl"
            subprocess.run([sys.executable, __file__, "--baseline", str(args.baseline),
                            "--urls", str(args.urls), "--titles", str(args.titles),
                            "--dump", str(tree), str(out)], env=env, cwd=tree, check=True)
            outs.append(out.read_text(encoding="utf-8").splitlines())
        old, new = outs
        print(f"{len(old)} lines from the baseline, {len(new)} from this tree")
        diff = list(difflib.unified_diff(old, new, "baseline", "this tree", n=0, lineterm=""))
        if not diff:
            print("identical")
            return
        removed = [d[1:] for d in diff if d.startswith("-") and not d.startswith("---")]
        added = [d[1:] for d in diff if d.startswith("+") and not d.startswith("+++")]
        pairs = list(zip(removed, added, strict=False))[:10]
        for before, after in pairs:  # where each pair first differs
            at = next((i for i, (x, y) in enumerate(zip(before, after, strict=False))
                       if x != y), min(len(before), len(after)))
            start = max(0, at - 150)
            print(f"- …{before[start:at + 150]}…\n+ …{after[start:at + 150]}…")
        sys.exit(f"{sum(1 for d in diff if d.startswith('+') and not d.startswith('+++'))} "
                 "lines differ")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
