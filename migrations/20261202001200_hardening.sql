-- Hardening: sign-in throttling kept in the database, a record of every sign-in, and indexes for the purge of
-- expired sessions and idempotency keys.

-- Counted sign-in tries per username and per client address; `locked_until` is when the next try may come.
create table login_throttle (
    scope           text not null check (scope in ('username', 'address')),
    subject         text not null,
    failures        integer not null default 0,
    last_try_at     timestamptz not null default now(),
    locked_until    timestamptz,
    primary key (scope, subject)
);

-- Every sign-in attempt, failed or successful (the username as typed, cut to 64 characters).
create table sign_in_event (
    sign_in_id   bigint generated always as identity primary key,
    at           timestamptz not null default now(),
    username     text not null,
    staff_id     uuid references staff (staff_id),
    client_addr  text not null,
    outcome      text not null check (outcome in ('ok', 'bad_credentials', 'throttled'))
);
create index sign_in_event_at_idx on sign_in_event (at);

create index idempotency_key_created_idx on idempotency_key (created_at);
create index staff_session_expires_idx on staff_session (expires_at);
