-- Personal-data duties: who read or exported which customer's data, and erased customers.

create table access_log (
    access_id    bigint generated always as identity primary key,
    at           timestamptz not null default now(),
    staff_id     uuid references staff (staff_id),
    action       text not null check (action in ('customer_read', 'card_view', 'history_view', 'scan',
                                                 'list_export', 'customer_export', 'customer_erasure')),
    -- Null for a list export, which names the list in `detail`.
    customer_id  uuid,
    detail       text not null default ''
);
create index access_log_customer_idx on access_log (customer_id, at);
create index access_log_at_idx on access_log (at);

alter table customer add column erased_at timestamptz;
