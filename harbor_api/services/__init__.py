"""Business rules. Services own their transactions and know nothing of HTTP frameworks."""
