-- +goose Up

-- roster says who is on support from which day to which, both inclusive.
-- `walnut roster import` replaces the whole table in one transaction, so the
-- CSV file is the roster's source of truth. Overlapping shifts are allowed
-- (a primary and a secondary); the board shows everyone on today.
CREATE TABLE roster (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_day  date NOT NULL,
    end_day    date NOT NULL,
    person     text NOT NULL CHECK (person <> ''),
    contact    text NOT NULL DEFAULT '',
    CHECK (end_day >= start_day)
);

CREATE INDEX roster_days ON roster (start_day, end_day);

-- +goose Down
DROP TABLE roster;
