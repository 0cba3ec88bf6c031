"""``lienhop usage`` through the CLI runner, on SQLite and PostgreSQL."""

from __future__ import annotations

from resolver import db
from resolver.usage.models import CounterUsage, SushiCredential
from tests.support.sushi import KEY, REPORT
from tests.support.usage import FIXTURES


def test_import_cost_and_reports(runner, db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    res = runner.invoke("usage", "import-counter", str(FIXTURES / "tr_j1_sciencedirect_hue_2024"
                                                                  ".json"),
                        "--institution", "hue", "--package", "sd")
    assert res.exit_code == 0, res.output
    assert "TR_J1 for hue/sd, 2024-01..2024-03: 8 figures imported, 0 replaced" in res.output
    assert "COUNTER exception 3032" in res.output
    res = runner.invoke("usage", "cost", "set", "sd", "2024", "2,750", "--currency", "usd")
    assert res.exit_code == 0 and "2,750.00 USD" in res.output
    res = runner.invoke("usage", "report", "downloads-by-package", "--from", "2024-01",
                        "--to", "2024-03")
    assert res.exit_code == 0
    assert res.output.splitlines()[2:] == ["2024-01\t150\tsd", "2024-02\t80\tsd",
                                           "2024-03\t45\tsd"]
    out = tmp_path / "cpd.csv"
    res = runner.invoke("usage", "report", "cost-per-download", "--from", "2024-01", "--to",
                        "2024-12", "--csv", str(out), "--lang", "vi")
    assert res.exit_code == 0, res.output
    lines = out.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Năm,Gói,")
    assert lines[1].startswith("2024,sd,USD,2750.00,275,10.0000")  # 150 + 80 + 45


def test_import_errors_are_line_precise(runner, db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    bad = tmp_path / "bad.tsv"
    text = (FIXTURES / "tr_j1_springer_ctu_2024.tsv").read_text(encoding="utf-8")
    bad.write_text(text.replace("\t10\t20\t30", "\t10\t-2\t30"), encoding="utf-8")
    res = runner.invoke("usage", "import-counter", str(bad), "--institution", "ctu",
                        "--package", "springer")
    assert res.exit_code == 1
    assert "line 15 (Feb-2024)" in res.output


def test_sushi_set_and_fetch(runner, db_url, monkeypatch, sushi):  # noqa: F811
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    monkeypatch.setenv("LIENHOP_SUSHI_API_KEY", KEY)
    res = runner.invoke("usage", "sushi-set", "sd", "--institution", "hue", "--url", sushi.url,
                        "--customer-id", "ECR-00012345")
    assert res.exit_code == 0 and "with an API key" in res.output and KEY not in res.output
    sushi.script = [(200, REPORT, {})]
    res = runner.invoke("usage", "sushi-fetch", "sd", "--institution", "hue", "--from",
                        "2024-01", "--to", "2024-03")
    assert res.exit_code == 0, res.output
    assert "8 figures imported" in res.output and KEY not in res.output
    assert sushi.seen[0][1]["api_key"] == [KEY]
    sushi.script = [(200, {"Code": 3031, "Message": "Usage Not Ready"}, {})]
    res = runner.invoke("usage", "sushi-fetch", "sd", "--institution", "hue", "--from",
                        "2024-04", "--to", "2024-04")
    assert res.exit_code == 75
    engine = db.make_engine(db_url)
    with db.session_factory(engine)() as s:
        assert s.query(CounterUsage).count() == 8
        assert s.query(SushiCredential).one().api_key == KEY
    engine.dispose()


def test_rollup_and_report_list(runner, db_url, monkeypatch):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    res = runner.invoke("usage", "rollup", "--rebuild")
    assert res.exit_code == 0 and "click: 0 month(s)" in res.output
    res = runner.invoke("usage", "reports")
    assert "turnaways\tTurnaways by package\tLượt bị từ chối theo gói" in res.output


def test_missing_credentials(runner, db_url, monkeypatch):
    monkeypatch.setenv("LIENHOP_DATABASE_URL", db_url)
    res = runner.invoke("usage", "sushi-fetch", "sd", "--institution", "hue", "--from",
                        "2024-01", "--to", "2024-01")
    assert res.exit_code == 1 and "no SUSHI credentials" in res.output


