"""From an alert to a delivered message: rendering (pure, Chinese, escaped) and one module per
channel behind one small interface (notifiers.base). Nothing here opens a socket: the transport is
handed in by bot/, so the network stays in scrapers/net.py."""
