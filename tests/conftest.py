"""Suite-wide settings.

Under CI the property tests are derandomized: the same examples every run, so a
submission never fails on a shape no earlier run tried. Local runs stay random
(that is how the kernel lab found the gateway bug); set HYPOTHESIS_PROFILE=ci to
reproduce CI exactly.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") or os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite golden files (tests/engine/golden) from today's output; review the diff.")
