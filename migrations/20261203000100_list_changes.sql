-- Maintained list state: the service keeps today's rankings and brings them up to date from the customers
-- changed since. Every write that can move a customer on a list appends the customer's id with its transaction
-- id; a reader holding a snapshot re-reads exactly the customers whose changes that snapshot did not see.

create table list_change (
    xid         xid8 not null default pg_current_xact_id(),
    customer_id uuid not null
);
create index list_change_by_xid on list_change (xid);

-- Pruning: rows below `horizon` are gone, so a kept state whose snapshot's xmin is below it rebuilds from scratch.
-- Each prune removes what was below the xmin it noted at least an hour before (`next_horizon`).
create table list_change_horizon (
    only_row     boolean primary key default true check (only_row),
    horizon      xid8 not null,
    next_horizon xid8 not null,
    noted_at     timestamptz not null
);
insert into list_change_horizon (horizon, next_horizon, noted_at)
values (pg_snapshot_xmin(pg_current_snapshot()), pg_snapshot_xmin(pg_current_snapshot()), now());

-- A bulk writer (an import chunk, a seed batch) that logs its customers itself once says so with
-- `set local doorstep.list_change_by_writer = 'on'`, and the statements of its transaction log nothing more.
create function note_list_change() returns trigger language plpgsql as $$
begin
    if current_setting('doorstep.list_change_by_writer', true) = 'on' then
        return null;
    end if;
    if tg_op = 'DELETE' then
        insert into list_change (customer_id) select distinct customer_id from old_rows;
    else
        insert into list_change (customer_id) select distinct customer_id from new_rows;
    end if;
    return null;
end $$;

do $$
declare t text;
begin
    foreach t in array array['customer', 'customer_stats', 'garment', 'pickup', 'pickup_line', 'interaction',
                             'pickup_booking', 'storage_order', 'storage_item'] loop
        execute format('create trigger %I after insert on %I referencing new table as new_rows
                        for each statement execute function note_list_change()', t || '_listed_ins', t);
        execute format('create trigger %I after update on %I referencing new table as new_rows
                        for each statement execute function note_list_change()', t || '_listed_upd', t);
        execute format('create trigger %I after delete on %I referencing old table as old_rows
                        for each statement execute function note_list_change()', t || '_listed_del', t);
    end loop;
end $$;

-- One customer's (or everyone's) scoring inputs on a day, before the base-wide quintiles: what `customer_value`
-- ranks, and what a kept tier table needs for the customers that changed. Written to be inlined, so a call with
-- ids reads only their rows.
create function customer_rates(on_ timestamptz, only_ids uuid[] default null)
returns table (
    customer_id         uuid,
    pickups             integer,
    spend_cents         bigint,
    first_pickup_at     timestamptz,
    last_pickup_at      timestamptz,
    recency_days        double precision,
    tenure_days         double precision,
    pickups_per_year    double precision,
    yearly_spend_cents  double precision,
    recent_yearly_cents double precision,
    usual_interval_days double precision
)
language sql stable parallel safe as $$
    with stats as materialized (
        -- The rollup answers for customers with no pickup on or after on_; the others are folded again from
        -- their pickups before on_, exactly as the pickup transaction folds them.
        select s.customer_id, s.first_pickup_at, s.last_pickup_at, s.pickups, s.spend_cents, s.recent_spend,
               s.long_spend
          from customer_stats s
         where s.last_pickup_at < on_ and (only_ids is null or s.customer_id = any(only_ids))
        union all
        select t.customer_id, min(t.collected_at), max(t.collected_at), count(*)::int, sum(t.total)::bigint,
               sum(t.total * decay_factor(t.collected_at, t.last_at, 91)),
               sum(t.total * decay_factor(t.collected_at, t.last_at, 365))
          from (select p.customer_id, p.collected_at, l.total,
                       max(p.collected_at) over (partition by p.customer_id) as last_at
                  from customer_stats s
                  join pickup p on p.customer_id = s.customer_id and p.collected_at < on_
                  join (select pl.customer_id, pl.pickup_id, sum(pl.price_cents)::float8 as total
                          from pickup_line pl group by pl.customer_id, pl.pickup_id) l
                    on l.customer_id = p.customer_id and l.pickup_id = p.pickup_id
                 where s.last_pickup_at >= on_ and s.first_pickup_at < on_
                   and (only_ids is null or s.customer_id = any(only_ids))
                   -- A one-time filter: today's list (nobody has a pickup after it) never reads the lines.
                   and (select coalesce(bool_or(s2.last_pickup_at >= on_), false) from customer_stats s2
                         where only_ids is null or s2.customer_id = any(only_ids))) t
         group by t.customer_id
    ), base as materialized (
        select s.customer_id, s.pickups, s.spend_cents, s.first_pickup_at, s.last_pickup_at,
               greatest(date_part('epoch', on_ - s.last_pickup_at) / 86400.0, 0) as recency_days,
               greatest(date_part('epoch', on_ - s.first_pickup_at) / 86400.0, 30) as tenure_days,
               s.recent_spend * exp(greatest(-700.0::float8,
                   -greatest(date_part('epoch', on_ - s.last_pickup_at), 0) / (86400.0 * 91))) as recent_now,
               s.long_spend * exp(greatest(-700.0::float8,
                   -greatest(date_part('epoch', on_ - s.last_pickup_at), 0) / (86400.0 * 365))) as long_now
          from stats s
    )
    -- A decayed sum of a steady daily rate x over t days is x * tau * (1 - e^(-t/tau)): divide it out.
    select b.customer_id, b.pickups, b.spend_cents, b.first_pickup_at, b.last_pickup_at, b.recency_days,
           b.tenure_days,
           b.pickups * 365.0 / b.tenure_days,
           b.long_now / (1 - exp(greatest(-700.0::float8, -b.tenure_days / 365.0))),
           365.0 * b.recent_now / (91.0 * (1 - exp(greatest(-700.0::float8, -b.tenure_days / 91.0)))),
           case when b.pickups > 1
                then date_part('epoch', b.last_pickup_at - b.first_pickup_at) / 86400.0 / (b.pickups - 1) end
      from base b
$$;

-- The same answers as before, from the shared rates.
create or replace function customer_value(on_ timestamptz, only_ids uuid[] default null)
returns table (
    customer_id         uuid,
    pickups             integer,
    spend_cents         bigint,
    first_pickup_at     timestamptz,
    last_pickup_at      timestamptz,
    recency_days        double precision,
    pickups_per_year    double precision,
    yearly_spend_cents  double precision,
    recent_yearly_cents double precision,
    usual_interval_days double precision,
    r                   integer,
    f                   integer,
    m                   integer,
    tier                text,
    stage               text
)
language sql stable parallel safe as $$
    with rates as materialized (
        select * from customer_rates(on_)
    ), cuts as (
        select percentile_disc(array[0.2, 0.4, 0.6, 0.8]) within group (order by -recency_days) as rc,
               percentile_disc(array[0.2, 0.4, 0.6, 0.8]) within group (order by pickups_per_year) as fc,
               percentile_disc(array[0.2, 0.4, 0.6, 0.8]) within group (order by yearly_spend_cents) as mc
          from rates
    ), scored as (
        select x.*,
               1 + (-x.recency_days > c.rc[1])::int + (-x.recency_days > c.rc[2])::int
                 + (-x.recency_days > c.rc[3])::int + (-x.recency_days > c.rc[4])::int as r,
               1 + (x.pickups_per_year > c.fc[1])::int + (x.pickups_per_year > c.fc[2])::int
                 + (x.pickups_per_year > c.fc[3])::int + (x.pickups_per_year > c.fc[4])::int as f,
               1 + (x.yearly_spend_cents > c.mc[1])::int + (x.yearly_spend_cents > c.mc[2])::int
                 + (x.yearly_spend_cents > c.mc[3])::int + (x.yearly_spend_cents > c.mc[4])::int as m
          from rates x, cuts c
         where only_ids is null or x.customer_id = any(only_ids)
    )
    select customer_id, pickups, spend_cents, first_pickup_at, last_pickup_at, recency_days, pickups_per_year,
           yearly_spend_cents, recent_yearly_cents, usual_interval_days, r, f, m,
           case when r + f + m >= 13 then 'platinum'
                when r + f + m >= 10 then 'gold'
                when r + f + m >= 7 then 'silver'
                else 'bronze' end,
           case when tenure_days < 120 then 'new'
                when usual_interval_days is not null and recency_days > 3 * greatest(usual_interval_days, 14) then 'declining'
                when recent_yearly_cents > 1.3 * yearly_spend_cents then 'growing'
                when recent_yearly_cents < 0.7 * yearly_spend_cents then 'declining'
                else 'stable' end
      from scored
$$;
