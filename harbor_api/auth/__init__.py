"""Authentication (who is calling) and authorisation (what they may do)."""
