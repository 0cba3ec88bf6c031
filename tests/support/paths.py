"""Where things are: the checkout, the committed test fixtures, the shared real data."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEST_FIXTURES = ROOT / "tests" / "fixtures"
# Real-world samples beside the checkout (../shared/data); `realdata` tests skip without it.
SHARED_DATA = ROOT.parent / "shared" / "data"
