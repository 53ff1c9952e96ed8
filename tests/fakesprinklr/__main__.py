"""Entry point: ``python3 -m fakesprinklr [options]``."""

import sys

from fakesprinklr.cli import main

sys.exit(main())
