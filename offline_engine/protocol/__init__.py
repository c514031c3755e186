"""FASHN's HTTP protocol: the WSGI app, its server, predictions, limits, faults and webhooks."""
