-- +goose Up

-- slack_threads remembers the Slack message of each outage when the slack
-- sink runs as a bot (SLACK_BOT_TOKEN): a site turning notok posts one
-- message, whose channel and ts are stored here at once, so that a retry
-- never posts a second one; later notices go into its thread and update it;
-- the site turning ok ends the outage (ended_at), and the next notok starts a
-- new message. Only the dispatcher's slack stream of a site, which one
-- process at a time holds, reads and writes the site's rows.
CREATE TABLE slack_threads (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id    integer     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    channel    text        NOT NULL, -- the channel id Slack answered, C…
    ts         text        NOT NULL, -- the message's timestamp, its id
    down_since timestamptz NOT NULL, -- when the site turned notok
    reason     text        NOT NULL DEFAULT '',
    posted_at  timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz           -- when the site was ok again
);

-- At most one open outage per site.
CREATE UNIQUE INDEX slack_threads_open ON slack_threads (site_id) WHERE ended_at IS NULL;

-- +goose Down
DROP TABLE slack_threads;
