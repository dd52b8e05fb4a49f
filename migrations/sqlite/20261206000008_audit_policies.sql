-- The ids of the Cedar policies that decided an event (comma-separated,
-- empty when no policy was consulted). Events that name policies are
-- hashed with canonical encoding version 2; all others keep version 1.
alter table audit_event add column policies text not null default '';
