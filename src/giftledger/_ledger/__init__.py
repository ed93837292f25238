"""Private: import from ``giftledger``."""
