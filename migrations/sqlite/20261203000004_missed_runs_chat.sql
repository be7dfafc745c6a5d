-- When a missed run was posted to the team's chat (WATCH_CHAT_TOPIC_ARN), apart from when it was
-- e-mailed (notified_at): each delivery is retried on its own, and neither is repeated.
ALTER TABLE missed_runs ADD COLUMN chat_notified_at TEXT;
