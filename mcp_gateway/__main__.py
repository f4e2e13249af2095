"""`python -m mcp_gateway` runs the CLI."""

import sys

from mcp_gateway.cli import main

sys.exit(main())
