-- Cleaning services and other services are different facts: only a cleaning line (dry clean, wash, wash and
-- press, leather care) makes a garment "cleaned", and one visit is one cleaning however many lines it has.
-- The garment rollups and pickup_class are rebuilt from the history under that rule.

create function is_cleaning(service text) returns boolean
language sql immutable parallel safe as
$$ select service in ('dry_clean', 'wash', 'wash_and_press', 'leather_care') $$;

-- One row per garment and visit with a cleaning line: the visit's cleaning price is the sum of its cleaning lines.
update garment g
   set times_cleaned = coalesce(x.n, 0), last_cleaned_at = x.last_at, last_price_cents = x.last_price
  from garment g2
  left join (
      select distinct on (v.customer_id, v.garment_id)
             v.customer_id, v.garment_id,
             count(*) over (partition by v.customer_id, v.garment_id) as n,
             v.collected_at as last_at, v.price as last_price
        from (select pl.customer_id, pl.garment_id, pl.pickup_id, p.collected_at, sum(pl.price_cents) as price
                from pickup_line pl join pickup p using (customer_id, pickup_id)
               where is_cleaning(pl.service)
               group by 1, 2, 3, 4) v
       order by v.customer_id, v.garment_id, v.collected_at desc, v.pickup_id desc) x
    on x.customer_id = g2.customer_id and x.garment_id = g2.garment_id
 where g.customer_id = g2.customer_id and g.garment_id = g2.garment_id
   and (g.times_cleaned, g.last_cleaned_at, g.last_price_cents)
       is distinct from (coalesce(x.n, 0), x.last_at, x.last_price);

-- Which season classes each pickup held: cleanings only (a repair is not a put-away).
delete from pickup_class;
insert into pickup_class (customer_id, season_class, collected_at, pickup_id)
select distinct pl.customer_id, g.season_class, p.collected_at, pl.pickup_id
  from pickup_line pl
  join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
  join pickup p on p.customer_id = pl.customer_id and p.pickup_id = pl.pickup_id
 where is_cleaning(pl.service);
