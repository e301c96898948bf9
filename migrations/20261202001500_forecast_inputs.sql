-- The intake forecast is fitted on closed weeks only, so it stays right until something changes a closed week:
-- a pickup dated in one (a back-dated visit, an import), a garment's season class or category, the calendar.
-- Those writes bump `forecast_input.version`; the service keeps the fitted answer per (horizon, day, version).
create table forecast_input (
    id         boolean primary key default true check (id),
    version    bigint not null default 0,
    changed_at timestamptz not null default now()
);
insert into forecast_input default values;

create function bump_forecast_input() returns trigger language plpgsql as $$
begin
    update forecast_input set version = version + 1, changed_at = now();
    return null;
end $$;

-- Pickups: only statements touching a row that may lie in a closed week. A company's week starts within 14 hours
-- of the UTC week's start, so anything before that bound may be history; a live visit is not.
create function bump_forecast_input_for_pickups() returns trigger language plpgsql as $$
begin
    if exists (select 1 from changed where collected_at < date_trunc('week', now()) + interval '14 hours') then
        update forecast_input set version = version + 1, changed_at = now();
    end if;
    return null;
end $$;

create trigger pickup_inserted_forecast after insert on pickup
    referencing new table as changed for each statement execute function bump_forecast_input_for_pickups();
create trigger pickup_updated_forecast after update on pickup
    referencing new table as changed for each statement execute function bump_forecast_input_for_pickups();
create trigger pickup_deleted_forecast after delete on pickup
    referencing old table as changed for each statement execute function bump_forecast_input_for_pickups();

-- Lines of an existing pickup, and garments reclassified (not the rollup updates every pickup makes).
create trigger pickup_line_deleted_forecast after delete on pickup_line
    for each statement execute function bump_forecast_input();
create trigger garment_reclassified_forecast after update of season_class, category on garment
    for each statement execute function bump_forecast_input();
create trigger season_window_kind_forecast after insert or update or delete on season_window_kind
    for each statement execute function bump_forecast_input();
create trigger season_window_override_forecast after insert or update or delete on season_window_override
    for each statement execute function bump_forecast_input();
