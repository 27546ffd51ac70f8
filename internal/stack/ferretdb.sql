-- Run by the stack in the PostgreSQL database that holds FerretDB's data.
--
-- FerretDB v1.24 looks a document up by `_jsonb -> '_id' @> '"<id>"'`, which
-- the btree index it creates on `_jsonb -> '_id'` cannot serve: without
-- help every lookup, update and delete by id scans the whole collection, so
-- the local stack slows down as data grows (docs/performance.md). This
-- trigger gives each collection table FerretDB creates GIN indexes that do
-- serve those lookups: by _id, and by the outbox flag the relay scans for.
-- MongoDB in production needs none of this.
CREATE OR REPLACE FUNCTION ticketing_index_lookups() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
	t record;
BEGIN
	FOR t IN SELECT object_identity FROM pg_event_trigger_ddl_commands()
		WHERE command_tag = 'CREATE TABLE' AND object_type = 'table'
	LOOP
		EXECUTE format('CREATE INDEX ON %s USING gin ((_jsonb -> %L))', t.object_identity, '_id');
		EXECUTE format('CREATE INDEX ON %s USING gin ((_jsonb -> %L))', t.object_identity, 'outboxPending');
	END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS ticketing_index_lookups;
CREATE EVENT TRIGGER ticketing_index_lookups ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION ticketing_index_lookups();
