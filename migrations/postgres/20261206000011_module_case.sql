-- Open cases (UU PDP Art. 20(2) b and e): a module records that a citizen
-- has a case with it (a queue ticket, a permit application). A purpose
-- based on a contract or a public task reads a citizen's data only while
-- the citizen has an open case with that module.
create table module_case (
    module_id text not null references module (module_id),
    account_id text not null references account (account_id),
    -- The module's own identifier: 1 to 64 letters, digits, - or _.
    case_id text not null,
    opened_at bigint not null,
    closed_at bigint,
    -- The event the module recorded when it closed the case (ticket_closed,
    -- case_closed): a purpose kept until that event ends with it.
    close_event text,
    primary key (module_id, account_id, case_id)
);
