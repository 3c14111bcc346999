"""jobs_api service."""
