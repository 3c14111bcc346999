-- The subset of nChat's PostgreSQL schema that the built-in processors read and write (schema public,
-- prefix nchat_), after nself-org/nchat backend/nself/migrations (imported schema, foreign keys, indexes
-- and triggers, source_account_id). Loaded by the tests and by `make run`; the worker never runs it
-- against a real nChat database. Every assumption is listed in docs/builtin-jobs.md.
-- Columns the processors do not touch are kept where they shape the data (types, NULLability).

CREATE TYPE user_status AS ENUM ('active', 'inactive', 'suspended', 'deleted');
CREATE TYPE channel_type AS ENUM ('public', 'private', 'direct', 'group', 'announcement');
CREATE TYPE message_type AS ENUM ('text', 'system', 'bot', 'file', 'voice', 'video', 'embed');
CREATE TYPE member_role AS ENUM ('owner', 'admin', 'moderator', 'member', 'guest');
CREATE TYPE notification_type AS ENUM ('message', 'mention', 'reaction', 'thread_reply', 'channel_invite', 'system');

CREATE TABLE nchat_users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email VARCHAR(255) NOT NULL UNIQUE,
    display_name VARCHAR(100) NOT NULL,
    username VARCHAR(50) UNIQUE,
    avatar_url TEXT,
    status user_status NOT NULL DEFAULT 'active',
    email_verified BOOLEAN NOT NULL,
    locale VARCHAR(10) DEFAULT 'en',
    timezone VARCHAR(50) DEFAULT 'UTC',
    metadata JSONB,
    last_seen_at TIMESTAMPTZ,
    source_account_id TEXT NOT NULL DEFAULT 'primary',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);

CREATE TABLE nchat_user_settings (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL UNIQUE REFERENCES nchat_users (id) ON DELETE CASCADE,
    notifications_enabled BOOLEAN,
    notification_email BOOLEAN,
    notification_email_frequency VARCHAR(20) DEFAULT 'instant',
    quiet_hours_enabled BOOLEAN,
    quiet_hours_start TIME,
    quiet_hours_end TIME,
    read_receipts BOOLEAN,
    source_account_id TEXT NOT NULL DEFAULT 'primary',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE nchat_channels (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id UUID,
    name VARCHAR(100) NOT NULL,
    slug VARCHAR(100) NOT NULL,
    description TEXT,
    type channel_type NOT NULL DEFAULT 'public',
    is_archived BOOLEAN,
    is_readonly BOOLEAN,
    member_count INTEGER DEFAULT 0,
    message_count INTEGER DEFAULT 0,
    last_message_at TIMESTAMPTZ,
    last_message_id UUID,
    retention_days INTEGER,
    created_by UUID REFERENCES nchat_users (id) ON DELETE SET NULL,
    source_account_id TEXT NOT NULL DEFAULT 'primary',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    archived_at TIMESTAMPTZ
);
CREATE INDEX idx_nchat_channels_slug ON nchat_channels (slug);

CREATE TABLE nchat_messages (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    channel_id UUID NOT NULL REFERENCES nchat_channels (id) ON DELETE CASCADE,
    user_id UUID REFERENCES nchat_users (id) ON DELETE SET NULL,
    thread_id UUID,
    parent_message_id UUID,
    content TEXT,
    content_html TEXT,
    content_plain TEXT,
    type message_type NOT NULL DEFAULT 'text',
    metadata JSONB,
    mentions UUID[],
    is_edited BOOLEAN,
    is_pinned BOOLEAN,
    is_deleted BOOLEAN,
    is_system BOOLEAN,
    reaction_count INTEGER DEFAULT 0,
    reply_count INTEGER DEFAULT 0,
    scheduled_at TIMESTAMPTZ,
    published_at TIMESTAMPTZ,
    edited_at TIMESTAMPTZ,
    deleted_at TIMESTAMPTZ,
    source_account_id TEXT NOT NULL DEFAULT 'primary',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_nchat_messages_channel_created ON nchat_messages (channel_id, created_at DESC);
CREATE INDEX idx_nchat_messages_user ON nchat_messages (user_id);
-- Assumed (docs/builtin-jobs.md): cleanup-expired and generate-analytics select by created_at alone.
CREATE INDEX idx_nchat_messages_created_at ON nchat_messages (created_at);

CREATE TABLE nchat_channel_members (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    channel_id UUID NOT NULL REFERENCES nchat_channels (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES nchat_users (id) ON DELETE CASCADE,
    role member_role DEFAULT 'member',
    is_muted BOOLEAN,
    notification_level VARCHAR(20) DEFAULT 'all',
    last_read_message_id UUID REFERENCES nchat_messages (id) ON DELETE SET NULL,
    last_read_at TIMESTAMPTZ,
    unread_count INTEGER,
    mention_count INTEGER,
    joined_at TIMESTAMPTZ DEFAULT now(),
    source_account_id TEXT NOT NULL DEFAULT 'primary',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX idx_nchat_channel_members_unique ON nchat_channel_members (channel_id, user_id);
CREATE INDEX idx_nchat_channel_members_user ON nchat_channel_members (user_id);
CREATE INDEX idx_nchat_channel_members_last_read ON nchat_channel_members (last_read_message_id);

CREATE TABLE nchat_threads (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    channel_id UUID NOT NULL REFERENCES nchat_channels (id) ON DELETE CASCADE,
    root_message_id UUID NOT NULL UNIQUE REFERENCES nchat_messages (id) ON DELETE CASCADE,
    message_count INTEGER DEFAULT 0,
    last_message_at TIMESTAMPTZ,
    source_account_id TEXT NOT NULL DEFAULT 'primary',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE nchat_reactions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    message_id UUID NOT NULL REFERENCES nchat_messages (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES nchat_users (id) ON DELETE CASCADE,
    emoji VARCHAR(64) NOT NULL,
    source_account_id TEXT NOT NULL DEFAULT 'primary',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (message_id, user_id, emoji)
);

-- The imported-schema shape of nchat_notifications (the 20260207 shape also has is_read and created_at).
CREATE TABLE nchat_notifications (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES nchat_users (id) ON DELETE CASCADE,
    type notification_type NOT NULL,
    channel_id UUID,
    message_id UUID,
    actor_id UUID,
    title VARCHAR(255) NOT NULL,
    body TEXT,
    data JSONB,
    is_read BOOLEAN,
    read_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_nchat_notifications_user ON nchat_notifications (user_id, created_at DESC);

-- backend/db/migrations/20260207_notifications_reminders.sql
CREATE TABLE nchat_digest_settings (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL UNIQUE REFERENCES nchat_users (id) ON DELETE CASCADE,
    enabled BOOLEAN DEFAULT false,
    frequency VARCHAR(10) NOT NULL DEFAULT 'daily' CHECK (frequency IN ('daily', 'weekly')),
    time VARCHAR(5) DEFAULT '09:00',
    timezone VARCHAR(50) DEFAULT 'UTC',
    include_read BOOLEAN DEFAULT false,
    max_notifications INTEGER DEFAULT 50,
    last_sent_at TIMESTAMPTZ
);

-- No DDL of scheduled messages exists in nChat's repositories: this is the shape assumed
-- (frontend/src/graphql/scheduled.ts plus sent_message_id of the design schema), see docs/builtin-jobs.md.
CREATE TABLE nchat_scheduled_messages (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES nchat_users (id) ON DELETE CASCADE,
    channel_id UUID NOT NULL REFERENCES nchat_channels (id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    scheduled_at TIMESTAMPTZ NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    sent_at TIMESTAMPTZ,
    sent_message_id UUID,
    error_message TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Trigger update_channel_message_count (…070920_indexes_and_triggers): top-level messages only.
CREATE FUNCTION update_channel_message_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.thread_id IS NULL THEN
            UPDATE nchat_channels
               SET message_count = COALESCE(message_count, 0) + 1,
                   last_message_at = NEW.created_at,
                   last_message_id = NEW.id
             WHERE id = NEW.channel_id;
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.thread_id IS NULL THEN
        UPDATE nchat_channels
           SET message_count = GREATEST(COALESCE(message_count, 0) - 1, 0)
         WHERE id = OLD.channel_id;
    END IF;
    RETURN OLD;
END;
$$;
CREATE TRIGGER trg_update_channel_message_count
    AFTER INSERT OR DELETE ON nchat_messages
    FOR EACH ROW EXECUTE FUNCTION update_channel_message_count();
