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
