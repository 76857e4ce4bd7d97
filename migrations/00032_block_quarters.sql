-- +goose Up

-- A block of a site probed every few seconds holds thousands of probes, and
-- a site page's 24-hour chart, drawn in quarter hours, would unpack 24 of
-- them. Such a block also carries its four quarter hours added up
-- (store/quarters.go): what the chart needs, read without the
-- block. Blocks of fewer probes, and those written before this migration,
-- have none and are unpacked as before. Adding a nullable column without a
-- default rewrites nothing: it takes each partition's lock for a moment, as
-- a catalog change, while `walnut migrate` runs.
ALTER TABLE probe_blocks ADD COLUMN quarters bytea;

-- +goose Down
ALTER TABLE probe_blocks DROP COLUMN quarters;
