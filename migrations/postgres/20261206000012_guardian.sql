-- Guardians of children (UU PDP Art. 25): a counter officer, after checking
-- the family card (KK), links a guardian to a citizen under 18; the
-- guardian then decides on consent for the child. The link lapses by
-- itself at 18 (checked against the NIK's birth date at each use).
create table guardian_link (
    child_id text not null references account (account_id),
    guardian_id text not null references account (account_id),
    -- The counter officer who checked the KK and linked them.
    linked_by text not null references account (account_id),
    linked_at bigint not null,
    ended_at bigint,
    primary key (child_id, guardian_id)
);
create index guardian_link_guardian on guardian_link (guardian_id);
