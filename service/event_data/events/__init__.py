"""The event model: normalising webhook events, and their stored and returned forms."""
