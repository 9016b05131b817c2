"""``python -m bayesformula``: the same as the ``bayesformula`` command."""

import sys

from bayesformula.cli import main

sys.exit(main())
