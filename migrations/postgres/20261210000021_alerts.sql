-- Alerts raised from the audit log by the rules in policies/alerts.toml,
-- for security officers. `dedupe` names the occurrence (rule, subject,
-- window), so a pattern raises one alert however often it is scanned.
create table alert (
    alert_id text primary key,
    dedupe text not null unique,
    rule text not null,
    severity text not null,
    -- An officer's or citizen's pseudonym, a module's name, a witness, or "log".
    subject text not null,
    -- The figures that raised it (JSON object).
    facts text not null,
    -- The audit event that raised it, when one did.
    seq bigint,
    raised_at bigint not null
);
create index alert_raised on alert (raised_at desc);

-- Sending each alert to the webhook: retried with backoff, then kept as a
-- dead letter that an officer can send again.
create table alert_delivery (
    alert_id text primary key references alert (alert_id),
    attempts integer not null,
    next_at bigint not null,
    last_error text,
    delivered_at bigint,
    dead_at bigint
);
create index alert_delivery_due on alert_delivery (next_at) where delivered_at is null and dead_at is null;

-- How far the rules have read the audit log.
create table alert_cursor (
    singleton integer primary key check (singleton = 1),
    next_seq bigint not null
);
