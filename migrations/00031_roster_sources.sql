-- +goose Up

-- Each roster row says where it came from: a CSV import, or PagerDuty's
-- on-call schedules. A CSV import replaces only the CSV rows; a PagerDuty
-- sync replaces only its own rows, from the first day it synced on.
ALTER TABLE roster ADD COLUMN source text NOT NULL DEFAULT 'csv' CHECK (source IN ('csv', 'pagerduty'));

-- roster_sync is how each synced source last went: the days its latest
-- good sync covered (PagerDuty owns them: CSV rows for those days are
-- dropped), when that was, and the latest failure, for the board's "as of"
-- and /healthz.
CREATE TABLE roster_sync (
    source       text        PRIMARY KEY CHECK (source IN ('pagerduty')),
    synced_at    timestamptz,
    day_from     date,
    day_to       date,
    attempted_at timestamptz NOT NULL,
    error        text        NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE roster_sync;
ALTER TABLE roster DROP COLUMN source;
