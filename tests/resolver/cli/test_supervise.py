"""``lienhop demo run``'s supervisor: children started together stop together, on a signal or
when one of them ends; the exit status says which."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from resolver.cli.supervise import Child, lienhop, supervise


def python(name: str, code: str) -> Child:
    return Child(name, (sys.executable, "-c", textwrap.dedent(code)))


def sleeper(name: str, pidfile: Path) -> Child:
    """A child that writes its pid, then waits to be stopped."""
    return python(name, f"""
        import os, time
        open({str(pidfile)!r}, "w").write(str(os.getpid()))
        time.sleep(600)
    """)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_child_that_ends_stops_the_others_and_fails_the_run(tmp_path):
    said: list[str] = []
    status = supervise([sleeper("long", tmp_path / "long.pid"),
                        python("short", "import time, sys; time.sleep(1); sys.exit(3)")],
                       say=said.append)
    assert status == 3
    assert said == ["lienhop: short stopped (exit status 3); stopping the others"]
    assert gone(int((tmp_path / "long.pid").read_text()))


def test_a_clean_exit_of_one_child_still_counts_as_a_failure(tmp_path):
    assert supervise([sleeper("long", tmp_path / "a.pid"), python("quitter", "pass")],
                     say=lambda _m: None) == 1


def test_sigterm_stops_every_child_even_one_that_ignores_it(tmp_path):
    stubborn = python("stubborn", f"""
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        open({str(tmp_path / "stubborn.pid")!r}, "w").write(str(os.getpid()))
        time.sleep(600)
    """)
    children = [stubborn, sleeper("calm", tmp_path / "calm.pid")]
    # the supervisor in its own process, as `lienhop demo run` runs it
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from resolver.cli.supervise import Child, supervise
        children = [Child(name, tuple(argv)) for name, argv in {
            [(c.name, list(c.argv)) for c in children]!r}]
        sys.exit(supervise(children, stop_timeout=2.0))
    """), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    pids = [tmp_path / "stubborn.pid", tmp_path / "calm.pid"]
    deadline = time.monotonic() + 60
    while not all(p.exists() and p.read_text() for p in pids):
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()[0]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "lienhop: stopping stubborn, calm" in out
    assert all(gone(int(p.read_text())) for p in pids)  # the stubborn one killed


def test_lienhop_children_run_this_checkout_with_this_interpreter(tmp_path):
    child = lienhop("web server", "run", "--port", "5000")
    assert child.argv == (sys.executable, "-m", "resolver.cli", "run", "--port", "5000")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENHOP_")}
    env.update(LIENHOP_ENV="development", LIENHOP_HOME=str(tmp_path / "instance"))
    res = subprocess.run([*child.argv[:3], "demo", "run", "--help"], capture_output=True,
                         text=True, timeout=120, env=env)
    assert res.returncode == 0 and "Ctrl-C" in res.stdout and "lienhop demo run" in res.stdout
