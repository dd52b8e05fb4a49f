-- Break-glass (UU PDP; the consent issue, item 9): a security officer's
-- read of a citizen's data without their consent, only with a written
-- justification and for a bounded window, decided by the Cedar policy
-- (break_glass), audited, shown to the citizen, and queued for review by
-- a security officer other than the one who used it.
create table break_glass (
    grant_id text primary key,
    officer_id text not null references account (account_id),
    citizen_id text not null references account (account_id),
    -- The written justification, sealed under the citizen's data key
    -- (bound to break_glass/<grant_id>/justification, version 1): it is
    -- about them, and erasing them shreds it with the rest.
    justification blob not null,
    justification_chars integer not null,
    opened_at integer not null,
    expires_at integer not null,
    -- The review (officer console): when, by whom, and the outcome.
    reviewed_at integer,
    reviewed_by text references account (account_id),
    review text check (review in ('accepted', 'escalated'))
);
create index break_glass_unreviewed on break_glass (reviewed_at, opened_at);
