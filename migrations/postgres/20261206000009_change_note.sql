-- SQLite keeps announced changes in a change_note table, which its one
-- instance polls. PostgreSQL deployments announce with NOTIFY
-- jaga_changes instead, so nothing is created here; the version exists so
-- that both backends share one migration history.
select 1;
