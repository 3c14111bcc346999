"""jobs_scheduler service."""
