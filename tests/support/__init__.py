"""Test helpers: starting real servers on loopback ports and talking to them."""
