"""Private: import from ``giftledger``. Reports read the books; they never write."""
