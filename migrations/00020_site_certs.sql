-- +goose Up

-- site_certs is the leaf certificate each https:// or tls:// site last
-- presented: one row a site, rewritten when the certificate changes (a new
-- fingerprint starts afresh: first_seen, warned_days) and its last_seen
-- moved at most hourly, so that probes cost nothing here. warn_from is when
-- the site's cert_warning begins (null: off); warned_days is the smallest
-- threshold (cert_warning, then 14, 7, 3, 1 days) Slack has been told of
-- for this certificate, so a restart does not tell it twice. Numbered 00020
-- so it never collides with the storage layout's 00008 onwards.
CREATE TABLE site_certs (
    site_id     integer     PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    fingerprint text        NOT NULL,
    expires_at  timestamptz NOT NULL,
    issuer      text        NOT NULL,
    subject     text        NOT NULL,
    verified    boolean     NOT NULL,
    warn_from   timestamptz,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    warned_days integer
);

-- A certificate warning travels through the notification outbox like a
-- transition, in order with them per site and sink: its row has no
-- transition, and says the threshold crossed and the expiry instead.
ALTER TABLE notifications
    ALTER COLUMN transition_id DROP NOT NULL,
    ADD COLUMN cert_days integer,
    ADD COLUMN cert_expires_at timestamptz,
    ADD CONSTRAINT notifications_about CHECK (
        (transition_id IS NULL) = (cert_days IS NOT NULL)
        AND (cert_days IS NULL) = (cert_expires_at IS NULL));

-- +goose Down
DELETE FROM notifications WHERE transition_id IS NULL;
ALTER TABLE notifications
    DROP CONSTRAINT notifications_about,
    DROP COLUMN cert_expires_at,
    DROP COLUMN cert_days,
    ALTER COLUMN transition_id SET NOT NULL;
DROP TABLE site_certs;
