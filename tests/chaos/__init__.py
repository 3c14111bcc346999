"""The chaos run (issue 12 §1): real processes, real faults, and a check of what survived.

``python -m chaos`` (``make chaos``) runs the full scenario; ``test_chaos.py`` runs the short one inside
``make test``. One concept per module: ``scenario`` (sizes and settings), ``workload`` (the seeded job mix),
``cluster`` (Redis and the service processes), ``processors`` and ``effects`` (what the workers run and
the side-effect log they leave), ``events`` (following the job event streams), ``load`` (pushing jobs
through the api, cancelling), ``faults`` (the seeded fault plan and its injection), ``everysec`` (what an
``appendfsync everysec`` crash loses), ``registry`` and ``checker`` (the invariants), ``report`` (the
table) and ``runner`` (the order of it all).
"""
