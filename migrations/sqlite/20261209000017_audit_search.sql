-- The security officers' audit search: newest first (time, then sequence
-- number) within each filter, so a page is an index range scan whatever
-- the log's size. The actor index gains the time; the target index is
-- replaced by one on the target id alone (a citizen's pseudonym is a
-- target id whatever the target kind).
drop index audit_event_actor;
drop index audit_event_target;
create index audit_event_time on audit_event (time_us, seq);
create index audit_event_actor_time on audit_event (actor_kind, actor_id, time_us, seq);
create index audit_event_target_time on audit_event (target_id, time_us, seq);
create index audit_event_action_time on audit_event (action, time_us, seq);
create index audit_event_purpose_time on audit_event (purpose, time_us, seq);
create index audit_event_request on audit_event (request_id);
