"""``jobs-admin``: operator commands that run against a deployment's Redis (``jobs-admin check``)."""
