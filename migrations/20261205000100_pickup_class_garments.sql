-- How many garments of each season class a visit cleaned, kept with the visit's class: a put-away is a visit
-- with several garments of the outgoing class, so the reminder estimates read each past window's put-aways
-- from this index alone instead of joining every visit in the window to its lines and garments (at a million
-- customers a 6 GB scan of the lines on every fit).
alter table pickup_class add column garments int;
-- Rebuilt below with the count; dropped first so the backfill does not write every row into it twice.
drop index if exists pickup_class_time_idx;
set local work_mem = '256MB';

update pickup_class k
   set garments = c.garments
  from (select pl.customer_id, g.season_class, pl.pickup_id, count(distinct pl.garment_id)::int as garments
          from pickup_line pl
          join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
         where is_cleaning(pl.service)
         group by 1, 2, 3) c
 where c.customer_id = k.customer_id and c.season_class = k.season_class and c.pickup_id = k.pickup_id;

-- A class row with no cleaned garment of its class behind it would be a bug; none is left without a count.
delete from pickup_class where garments is null;
alter table pickup_class alter column garments set not null,
    add constraint pickup_class_garments_positive check (garments > 0);

create index pickup_class_time_idx on pickup_class (season_class, collected_at) include (customer_id, garments);
