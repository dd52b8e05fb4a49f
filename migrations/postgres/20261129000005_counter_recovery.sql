-- The unit (office) an officer works for, shown to citizens beside the
-- officer's role when an officer acted on their account.
alter table account add column unit text;

-- Every recovery a counter officer starts. It is shown to the citizen once
-- the code is used, and waits for a security officer's review either way.
create table counter_recovery (
    -- The one-time code issued for it (its SHA-256).
    code_hash bytea primary key,
    account_id text not null references account (account_id),
    officer_id text not null references account (account_id),
    officer_unit text,
    issued_at bigint not null,
    completed_at bigint,
    reviewed_at bigint,
    reviewed_by text references account (account_id),
    review_note text
);
create index counter_recovery_account on counter_recovery (account_id, completed_at);
create index counter_recovery_unreviewed on counter_recovery (issued_at) where reviewed_at is null;
