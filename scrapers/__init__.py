"""From the web to a Document: fetching (http.py only), portal kinds, and extraction of bytes."""
