-- Consent decisions (UU PDP Art. 20-24, 40): grant, refuse or withdraw, per
-- citizen and purpose of the catalog. Append-only: the current state of a
-- purpose is the decision with the highest seq; the history is the proof
-- of consent (when, which notice version was shown, how, and by whom).
create table consent_event (
    account_id text not null references account (account_id),
    purpose_id text not null,
    -- 1, 2, 3… per citizen and purpose, in the order decided.
    seq bigint not null,
    decision text not null check (decision in ('grant', 'refuse', 'withdraw')),
    notice_version text not null,
    -- portal (the citizen), counter (an officer for the citizen), guardian
    method text not null check (method in ('portal', 'counter', 'guardian')),
    -- Who recorded it: the citizen, an officer or a guardian (account id).
    recorded_by text not null references account (account_id),
    decided_at bigint not null,
    primary key (account_id, purpose_id, seq)
);
