#!/bin/sh
# Writes a company's weekly garment intake as `week_start,value` CSVs for `doorstep forecast backtest` (dev
# check): in all, per season class and per category, counted as the service counts it (a garment once a visit),
# in company-time weeks from Monday (UTC offset in hours, default 8), empty weeks as 0, all series over the same
# weeks: those between the company's first and last week with a pickup (both likely partial, left out).
# Usage: src/bench/intake_series.sh DATABASE_URL OUT_DIR [UTC_OFFSET_HOURS]
set -eu
url=$1 out=$2 offset=${3:-8}
mkdir -p "$out"
for spec in \
  "total:true" \
  "winter:g.season_class = 'winter'" "summer:g.season_class = 'summer'" \
  "spring_autumn:g.season_class = 'spring_autumn'" "all_season:g.season_class = 'all_season'" \
  "men:g.category = 'men'" "women:g.category = 'women'" "children:g.category = 'children'"; do
  name=${spec%%:*} cond=${spec#*:}
  {
    echo "week_start,value"
    psql "$url" -AtF, -v ON_ERROR_STOP=1 -c "
      with lines as (
        select distinct date_trunc('week', p.collected_at + interval '$offset hours')::date as week,
               pl.pickup_id, pl.garment_id
          from pickup p
          join pickup_line pl on pl.customer_id = p.customer_id and pl.pickup_id = p.pickup_id
          join garment g on g.customer_id = pl.customer_id and g.garment_id = pl.garment_id
         where $cond
      ), span as (
        select min(w) + 7 as first, max(w) - 7 as last
          from (select date_trunc('week', collected_at + interval '$offset hours')::date as w from pickup) p
      )
      select w::date, count(l.week)
        from span, generate_series(span.first, span.last, interval '7 days') as w
        left join lines l on l.week = w::date
       group by w order by w"
  } > "$out/$name.csv"
done
