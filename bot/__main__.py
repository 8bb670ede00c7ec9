"""``python -m bot`` is the ``civic-bridge`` command."""

import sys

from bot.cli import main

sys.exit(main())
