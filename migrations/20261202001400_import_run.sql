-- One row per file of every committed `doorstep import`: what it read, inserted, found already there and refused.
-- /metrics exports the totals (doorstep_import_rows_total), since an import runs outside the service.
create table import_run (
    import_run_id    bigint generated always as identity primary key,
    finished_at      timestamptz not null default now(),
    file             text not null check (file in ('customers', 'garments', 'pickups')),
    rows_read        bigint not null,
    inserted         bigint not null,
    already_imported bigint not null,
    rejected         bigint not null
);
