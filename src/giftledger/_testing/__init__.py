"""The testing kit's parts; users import them from :mod:`giftledger.testing`."""
