-- The intake forecast's series kept by the writes themselves: garments collected (a garment once a visit) per
-- UTC hour, season class and category. Company weeks are cut from hours when read, so any whole-hour company
-- offset reads the same table, and a refit reads a few thousand rows instead of every pickup line.
create table intake_hour (
    hour         timestamptz not null,
    season_class text not null,
    category     text not null,
    garments     bigint not null,
    primary key (hour, season_class, category)
);

-- What writes changed since the last fold, appended only: a pickup's transaction never updates a shared row,
-- so concurrent pickups never wait for each other. The service folds it into intake_hour; readers add both.
create table intake_hour_change (
    hour         timestamptz not null,
    season_class text not null,
    category     text not null,
    garments     bigint not null
);

insert into intake_hour (hour, season_class, category, garments)
select date_trunc('hour', p.collected_at), g.season_class, g.category, count(*)
  from (select distinct customer_id, pickup_id, garment_id from pickup_line) pl
  join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
  join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
 group by 1, 2, 3;

-- New lines: a (pickup, garment) pair counts when all its lines are in this statement (it was not there before).
-- A pickup whose lines are all in this statement (every writer adds a visit's lines at once) needs no look at
-- its pairs; only the others are checked pair by pair.
-- A writer that appends its own changes in the same transaction (the import, from its staging tables, where
-- every pickup is new) says so with `set local doorstep.intake_kept_by_writer = 'on'`.
create function intake_lines_added() returns trigger language plpgsql as $$
begin
    if current_setting('doorstep.intake_kept_by_writer', true) = 'on' then
        return null;
    end if;
    insert into intake_hour_change (hour, season_class, category, garments)
    select date_trunc('hour', p.collected_at), g.season_class, g.category, count(*)
      from (select customer_id, pickup_id, garment_id, count(*) as n from added group by 1, 2, 3) a
      join (select ap.customer_id, ap.pickup_id,
                   ap.n = (select count(*) from pickup_line x
                            where x.customer_id = ap.customer_id and x.pickup_id = ap.pickup_id) as whole
              from (select customer_id, pickup_id, count(*) as n from added group by 1, 2) ap) v
        on v.customer_id = a.customer_id and v.pickup_id = a.pickup_id
      join pickup p on p.customer_id = a.customer_id and p.pickup_id = a.pickup_id
      join garment g on g.customer_id = a.customer_id and g.garment_id = a.garment_id
     where v.whole
        or a.n = (select count(*) from pickup_line x
                   where x.customer_id = a.customer_id and x.pickup_id = a.pickup_id
                     and x.garment_id = a.garment_id)
     group by 1, 2, 3;
    return null;
end $$;
create trigger pickup_line_inserted_intake after insert on pickup_line
    referencing new table as added for each statement execute function intake_lines_added();

-- Lines removed: a pair no longer there is taken off.
create function intake_lines_removed() returns trigger language plpgsql as $$
begin
    insert into intake_hour_change (hour, season_class, category, garments)
    select date_trunc('hour', p.collected_at), g.season_class, g.category, -count(*)
      from (select distinct customer_id, pickup_id, garment_id from removed) r
      join pickup p on p.customer_id = r.customer_id and p.pickup_id = r.pickup_id
      join garment g on g.customer_id = r.customer_id and g.garment_id = r.garment_id
     where not exists (select 1 from pickup_line x
                        where x.customer_id = r.customer_id and x.pickup_id = r.pickup_id
                          and x.garment_id = r.garment_id)
     group by 1, 2, 3;
    return null;
end $$;
create trigger pickup_line_deleted_intake after delete on pickup_line
    referencing old table as removed for each statement execute function intake_lines_removed();

-- A garment reclassified moves every visit it was collected on to its new class and category (row by row:
-- transition tables cannot go with a column list, and the rollup updates every pickup makes must not fire it).
create function intake_garment_reclassified() returns trigger language plpgsql as $$
begin
    insert into intake_hour_change (hour, season_class, category, garments)
    select date_trunc('hour', p.collected_at), c.season_class, c.category, sum(c.sign)
      from (values (old.season_class, old.category, -1), (new.season_class, new.category, 1))
           as c (season_class, category, sign)
      cross join (select distinct x.pickup_id from pickup_line x
                   where x.customer_id = new.customer_id and x.garment_id = new.garment_id) pl
      join pickup p on p.customer_id = new.customer_id and p.pickup_id = pl.pickup_id
     group by 1, 2, 3;
    return null;
end $$;
create trigger garment_reclassified_intake after update of season_class, category on garment
    for each row when (old.season_class is distinct from new.season_class or old.category is distinct from new.category)
    execute function intake_garment_reclassified();

-- A pickup moved in time moves its garments.
create function intake_pickup_moved() returns trigger language plpgsql as $$
begin
    insert into intake_hour_change (hour, season_class, category, garments)
    select m.hour, g.season_class, g.category, sum(m.sign)
      from (values (date_trunc('hour', old.collected_at), -1), (date_trunc('hour', new.collected_at), 1))
           as m (hour, sign)
      cross join (select distinct x.garment_id from pickup_line x
                   where x.customer_id = new.customer_id and x.pickup_id = new.pickup_id) pl
      join garment g on g.customer_id = new.customer_id and g.garment_id = pl.garment_id
     group by 1, 2, 3;
    return null;
end $$;
create trigger pickup_moved_intake after update of collected_at on pickup
    for each row when (date_trunc('hour', old.collected_at) <> date_trunc('hour', new.collected_at))
    execute function intake_pickup_moved();
