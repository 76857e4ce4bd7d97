-- +goose Up

-- walnut_checked tells live boards which sites a statement touched, without
-- naming them: its payload is the earliest checked_at among the site_state
-- rows it updated, in Unix microseconds. A board that re-reads the sites
-- checked since that instant sees every row the statement wrote, however
-- late its probes were (a slow upstream, a backlog after an outage), and
-- reads a few hundred rows a batch instead of every site.
-- +goose StatementBegin
CREATE FUNCTION walnut_notify_checked() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_min timestamptz;
BEGIN
    SELECT min(checked_at) INTO v_min FROM new_state;
    IF v_min IS NOT NULL THEN
        PERFORM pg_notify('walnut_checked', (extract(epoch FROM v_min) * 1000000)::bigint::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER site_state_checked
    AFTER UPDATE ON site_state
    REFERENCING NEW TABLE AS new_state
    FOR EACH STATEMENT EXECUTE FUNCTION walnut_notify_checked();

-- +goose Down
DROP TRIGGER site_state_checked ON site_state;
DROP FUNCTION walnut_notify_checked();
