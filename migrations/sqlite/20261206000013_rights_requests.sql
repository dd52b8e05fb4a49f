-- Data-subject requests that take time (UU PDP Art. 6, 8, 30, 43).
--
-- A correction request: the citizen asks for an identity field to be
-- corrected; a counter officer approves or refuses it with a reason within
-- 3 x 24 hours (due_at). The proposed value and the officer's reason are
-- sealed under the citizen's data key (names correction/<id>/value and
-- correction/<id>/reason), so erasure shreds them with the rest.
create table correction_request (
    request_id text primary key,
    account_id text not null references account (account_id),
    field text not null,
    proposed blob not null,
    requested_at integer not null,
    due_at integer not null,
    state text not null check (state in ('open', 'approved', 'refused')),
    decided_at integer,
    decided_by text references account (account_id),
    reason blob
);
-- At most one open request per citizen and field.
create unique index correction_request_open_field on correction_request (account_id, field) where state = 'open';
create index correction_request_queue on correction_request (state, due_at);
create index correction_request_account on correction_request (account_id, requested_at);

-- An erasure the citizen asked for. What a legal obligation keeps stays
-- sealed under a new data key (the old one destroyed) until kept_until;
-- then the key goes too (finished_at).
create table erasure (
    account_id text primary key references account (account_id),
    erased_at integer not null,
    -- JSON: [{"field": ..., "purpose": ...}] kept, empty when nothing was.
    kept text not null,
    kept_until integer,
    finished_at integer
);
create index erasure_pending on erasure (finished_at, kept_until);
