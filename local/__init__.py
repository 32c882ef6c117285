"""Runs the API on this machine as it is deployed: template.yaml's functions and routes behind one server.

``python -m local.serve`` starts it (see ``local/serve.py``); ``python -m local.openapi`` writes openapi.json.
"""
