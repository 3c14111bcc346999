"""jobs_dashboard service."""
