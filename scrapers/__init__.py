"""From the web to a Document: fetching (net.py only), portal kinds, and extraction of bytes."""
