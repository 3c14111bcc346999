-- A small nChat for `make run` (loaded once, into a new database, after the schema subset). Times are
-- relative to the load: a few fresh messages (digests have something to say), some from yesterday
-- (analytics), some older than 90 days (the cleanup). Users and channels also have the names of SPEC.md's
-- examples: user-123 and user-789 (usernames), channel-456 (a slug).

INSERT INTO nchat_users (id, email, display_name, username, email_verified, created_at) VALUES
    ('00000000-0000-4000-8000-000000000123', 'user-123@nchat.local', 'User 123', 'user-123', true, now() - interval '300 days'),
    ('00000000-0000-4000-8000-000000000789', 'user-789@nchat.local', 'User 789', 'user-789', true, now() - interval '200 days'),
    ('00000000-0000-4000-8000-00000000a11c', 'alice@nchat.local', 'Alice', 'alice', true, now() - interval '1 day'),
    ('00000000-0000-4000-8000-000000000b0b', 'bob@nchat.local', 'Bob', 'bob', true, now() - interval '400 days');

INSERT INTO nchat_user_settings (user_id, notification_email, notification_email_frequency) VALUES
    ('00000000-0000-4000-8000-000000000123', true, 'daily'),
    ('00000000-0000-4000-8000-00000000a11c', true, 'daily'),
    ('00000000-0000-4000-8000-000000000b0b', true, 'weekly');

INSERT INTO nchat_channels (id, name, slug, type, created_at) VALUES
    ('00000000-0000-4000-8000-0000000c0001', 'general', 'general', 'public', now() - interval '400 days'),
    ('00000000-0000-4000-8000-000000000456', 'channel 456', 'channel-456', 'public', now() - interval '1 day');

INSERT INTO nchat_channel_members (channel_id, user_id) VALUES
    ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-000000000123'),
    ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-000000000789'),
    ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-00000000a11c'),
    ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-000000000b0b'),
    ('00000000-0000-4000-8000-000000000456', '00000000-0000-4000-8000-000000000789'),
    ('00000000-0000-4000-8000-000000000456', '00000000-0000-4000-8000-000000000123');

INSERT INTO nchat_messages (channel_id, user_id, content, created_at)
SELECT '00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-000000000b0b',
       'An old message, ' || g || ' of 200', now() - interval '120 days' - g * interval '1 minute'
  FROM generate_series(1, 200) g;

INSERT INTO nchat_messages (channel_id, user_id, content, created_at) VALUES
    ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-000000000789', 'Yesterday''s stand-up notes are in the doc.', now() - interval '1 day'),
    ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-00000000a11c', 'Hello everyone, I just joined!', now() - interval '23 hours'),
    ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-000000000b0b', 'Welcome Alice!', now() - interval '2 hours'),
    ('00000000-0000-4000-8000-0000000c0001', '00000000-0000-4000-8000-000000000789', 'Release 2.4 ships tomorrow at 10:00.', now() - interval '40 minutes'),
    ('00000000-0000-4000-8000-000000000456', '00000000-0000-4000-8000-000000000789', 'Can you review my pull request?', now() - interval '15 minutes');

INSERT INTO nchat_notifications (user_id, type, title, body, is_read, created_at) VALUES
    ('00000000-0000-4000-8000-000000000123', 'mention', 'Bob mentioned you', 'in #general', true, now() - interval '45 days'),
    ('00000000-0000-4000-8000-000000000123', 'message', 'New message', 'in #channel-456', false, now() - interval '15 minutes');

INSERT INTO nchat_scheduled_messages (id, user_id, channel_id, content, scheduled_at) VALUES
    ('00000000-0000-4000-8000-00000005c4ed', '00000000-0000-4000-8000-000000000789',
     '00000000-0000-4000-8000-000000000456', 'Reminder: stand-up in 5 minutes', now() + interval '1 hour');
