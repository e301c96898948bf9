-- Bumping forecast_input.version in the writing transaction held its one row locked until commit, so two
-- imports, seed writers or back-dated visits at once waited for each other. Writes now append a row; the
-- version is the folded count plus the rows appended since, and the service's refit task folds them.
create table forecast_input_change (
    id bigint generated always as identity primary key,
    at timestamptz not null default now()
);

create or replace function bump_forecast_input() returns trigger language plpgsql as $$
begin
    insert into forecast_input_change default values;
    return null;
end $$;

create or replace function bump_forecast_input_for_pickups() returns trigger language plpgsql as $$
begin
    if exists (select 1 from changed where collected_at < date_trunc('week', now()) + interval '14 hours') then
        insert into forecast_input_change default values;
    end if;
    return null;
end $$;

-- The version readers key the kept fit by: grows with every committed change, folded or not.
create function forecast_input_version() returns bigint language sql stable as $$
    select f.version + (select count(*) from forecast_input_change) from forecast_input f
$$;
