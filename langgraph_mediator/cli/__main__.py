"""``python -m langgraph_mediator.cli``: the same as the ``mediator`` command."""

import sys

from langgraph_mediator.cli import main

sys.exit(main())
