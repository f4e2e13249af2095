"""The admin surface: health, server status, and (as they land) keys, logs and approvals."""
