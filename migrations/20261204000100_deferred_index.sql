-- Indexes a bulk load (a large seed) dropped to build again once it ends. Kept in the database, so a load that
-- stops half way leaves them to be built at the next start instead of missing for good.
create table deferred_index (
    index_name text primary key,
    table_name text not null,
    definition text not null,
    deferred_at timestamptz not null default now()
);
