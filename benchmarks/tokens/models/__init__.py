"""Models the agent loop can drive: the offline scripted model and HTTP adapters for real ones."""
