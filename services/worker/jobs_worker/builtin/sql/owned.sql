-- Tables this service owns in nChat's database (prefix jobs_). The worker applies this file once per
-- process, under an advisory lock, before the first built-in job that needs the database; every
-- statement is idempotent, so workers starting together and new versions re-running it are harmless.

CREATE TABLE IF NOT EXISTS jobs_analytics_daily (
    day DATE NOT NULL,
    metric TEXT NOT NULL,            -- messages.total, messages.channel, users.active, users.new, channels.new, channels.active
    dimension TEXT NOT NULL DEFAULT '',  -- the channel id for messages.channel, else ''
    value BIGINT NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (day, metric, dimension)
);

CREATE TABLE IF NOT EXISTS jobs_digest_log (
    job_id TEXT PRIMARY KEY,
    user_id UUID NOT NULL,
    frequency TEXT NOT NULL,
    since TIMESTAMPTZ NOT NULL,
    until TIMESTAMPTZ NOT NULL,
    messages INTEGER NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS jobs_digest_log_user_until ON jobs_digest_log (user_id, until DESC);
