"""Where the browser tests save their screenshots."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.support.paths import ROOT

# The README's screenshots are refreshed only when asked (LIENHOP_SCREENSHOTS=1 make test), so
# that a test run leaves the checkout as it found it; otherwise they go to a scratch folder.
SCREENSHOTS = (ROOT / "docs" / "screenshots" if os.environ.get("LIENHOP_SCREENSHOTS")
               else Path(tempfile.gettempdir()) / "lienhop-screenshots")
