-- Wardrobe intelligence: rollups kept in the pickup write path, the season calendar, pickup bookings,
-- campaigns and their call outcomes, import references, and the storage warehouse (zones, orders, items).

-- Rollups written in the same transaction as every pickup line, so lists never aggregate all history.
alter table garment
    add column times_cleaned    integer not null default 0,
    add column last_cleaned_at  timestamptz,
    add column last_price_cents bigint;

update garment g
   set times_cleaned = x.n, last_cleaned_at = x.last_at, last_price_cents = x.last_price
  from (select distinct on (pl.customer_id, pl.garment_id)
               pl.customer_id, pl.garment_id,
               count(*) over (partition by pl.customer_id, pl.garment_id) as n,
               p.collected_at as last_at, pl.price_cents as last_price
          from pickup_line pl join pickup p using (customer_id, pickup_id)
         order by pl.customer_id, pl.garment_id, p.collected_at desc) x
 where g.customer_id = x.customer_id and g.garment_id = x.garment_id;

create index garment_season_cleaned_idx on garment (season_class, last_cleaned_at)
    include (customer_id, garment_id, last_price_cents);

-- Per-customer spend with two exponentially decayed sums (about 3 months and about a year), decayed to
-- last_pickup_at; lists decay them to their own day, which gives recent and long-run spend rates exactly.
create function decay_factor(from_at timestamptz, to_at timestamptz, tau_days double precision)
returns double precision language sql immutable parallel safe as
$$ select exp(greatest(-700.0, -extract(epoch from to_at - from_at) / (86400.0 * tau_days))) $$;

-- Adds `amount` at `at_` to a sum decayed to `sum_at`; the result is decayed to the later of the two.
create function decayed_add(total double precision, sum_at timestamptz, amount double precision,
                            at_ timestamptz, tau_days double precision)
returns double precision language sql immutable parallel safe as
$$ select case when at_ >= sum_at then total * decay_factor(sum_at, at_, tau_days) + amount
               else total + amount * decay_factor(at_, sum_at, tau_days) end $$;

create table customer_stats (
    customer_id     uuid primary key references customer (customer_id),
    first_pickup_at timestamptz not null,
    last_pickup_at  timestamptz not null,
    pickups         integer not null,
    spend_cents     bigint not null,
    recent_spend    double precision not null,
    long_spend      double precision not null
);

insert into customer_stats
select p.customer_id, min(p.collected_at), max(p.collected_at), count(*), sum(t.total),
       sum(t.total * decay_factor(p.collected_at, m.last_at, 91)),
       sum(t.total * decay_factor(p.collected_at, m.last_at, 365))
  from pickup p
  join (select customer_id, pickup_id, sum(price_cents) as total from pickup_line group by 1, 2) t
       using (customer_id, pickup_id)
  join (select customer_id, max(collected_at) as last_at from pickup group by 1) m using (customer_id)
 group by p.customer_id;

-- The season calendar: each window kind has a default by month and day; managers may override a year.
create table season_window_kind (
    window_kind  text primary key check (window_kind ~ '^[a-z][a-z0-9_]{1,30}$'),
    name         text not null,
    outgoing     text not null check (outgoing in ('winter', 'summer', 'spring_autumn', 'all_season')),
    start_month  smallint not null check (start_month between 1 and 12),
    start_day    smallint not null check (start_day between 1 and 31),
    end_month    smallint not null check (end_month between 1 and 12),
    end_day      smallint not null check (end_day between 1 and 31),
    updated_at   timestamptz not null default now(),
    updated_by   uuid references staff (staff_id)
);

-- Humid subtropical (Shanghai-like) defaults: winter clothes go away in spring before the plum rains,
-- summer clothes in autumn, in-between clothes at the start of summer and of winter.
insert into season_window_kind (window_kind, name, outgoing, start_month, start_day, end_month, end_day) values
    ('spring', 'Spring put-away (winter clothes)', 'winter', 3, 1, 5, 31),
    ('early_summer', 'Early-summer put-away (spring/autumn clothes)', 'spring_autumn', 5, 15, 6, 30),
    ('autumn', 'Autumn put-away (summer clothes)', 'summer', 9, 1, 11, 30),
    ('early_winter', 'Early-winter put-away (spring/autumn clothes)', 'spring_autumn', 11, 15, 12, 31);

create table season_window_override (
    window_kind text not null references season_window_kind (window_kind) on delete cascade,
    year        integer not null check (year between 2000 and 2200),
    starts_on   date not null,
    ends_on     date not null,
    updated_at  timestamptz not null default now(),
    updated_by  uuid references staff (staff_id),
    primary key (window_kind, year),
    check (ends_on >= starts_on and ends_on - starts_on <= 200)
);

-- A pickup promised for a day (from a call outcome); it is kept until a pickup happens or the day passes.
create table pickup_booking (
    customer_id  uuid not null references customer (customer_id),
    booking_id   uuid not null,
    booked_for   date not null,
    created_at   timestamptz not null default now(),
    created_by   uuid references staff (staff_id),
    source       text not null,
    primary key (customer_id, booking_id)
);
create index pickup_booking_day_idx on pickup_booking (booked_for, customer_id);

-- A campaign freezes a list on a day; its entries are worked by dispatchers.
create table campaign (
    campaign_id  uuid primary key,
    name         text not null check (length(btrim(name)) > 0),
    list         text not null check (list in ('reminders', 'storage_upsell', 'special_sizes', 'at_risk')),
    window_kind  text references season_window_kind (window_kind),
    window_year  integer,
    window_start date,
    as_of        date not null,
    follow_until date not null,
    params       jsonb not null default '{}',
    created_by   uuid not null references staff (staff_id),
    created_at   timestamptz not null default now(),
    check ((window_kind is null) = (window_year is null))
);

create table campaign_entry (
    campaign_id   uuid not null references campaign (campaign_id),
    customer_id   uuid not null references customer (customer_id),
    rank          integer not null,
    snapshot      jsonb not null,
    garment_ids   uuid[] not null default '{}',
    assigned_to   uuid references staff (staff_id),
    status        text not null default 'open'
                  check (status in ('open', 'no_answer', 'call_back', 'booked', 'declined', 'never_contact')),
    call_back_at  timestamptz,
    booked_for    date,
    attempts      integer not null default 0,
    last_outcome_at timestamptz,
    primary key (campaign_id, customer_id)
);
create index campaign_entry_queue_idx on campaign_entry (assigned_to, campaign_id, rank);

create table campaign_outcome (
    campaign_id    uuid not null,
    customer_id    uuid not null,
    outcome_no     integer not null,
    outcome        text not null check (outcome in ('no_answer', 'call_back', 'booked', 'declined', 'never_contact')),
    notes          text not null default '',
    call_back_at   timestamptz,
    booked_for     date,
    staff_id       uuid not null references staff (staff_id),
    interaction_id uuid not null,
    recorded_at    timestamptz not null default now(),
    primary key (campaign_id, customer_id, outcome_no),
    foreign key (campaign_id, customer_id) references campaign_entry (campaign_id, customer_id),
    foreign key (customer_id, interaction_id) references interaction (customer_id, interaction_id)
);

-- External ids from `doorstep import`, so a second run records nothing twice.
alter table customer add column external_id text;
create unique index customer_external_id_key on customer (external_id);
alter table garment add column external_id text;
create unique index garment_external_id_key on garment (external_id);
alter table pickup add column external_id text;
create unique index pickup_external_id_key on pickup (external_id);

-- The storage warehouse: zones with a capacity, orders with their items and every status change.
create table storage_zone (
    zone_id     text primary key check (zone_id ~ '^[A-Za-z0-9_-]{1,40}$'),
    name        text not null,
    kind        text not null check (kind in ('cold_vault', 'rack', 'bin')),
    capacity    integer not null check (capacity >= 0),
    created_at  timestamptz not null default now()
);

insert into storage_zone (zone_id, name, kind, capacity) values
    ('cold-vault', 'Cold vault (fur, leather, suede)', 'cold_vault', 400),
    ('rack-a', 'Hanging rack A (coats, suits, down)', 'rack', 1500),
    ('bin-a', 'Folded bins A (knitwear, scarves, bedding)', 'bin', 1200);

-- Storage fee per month by garment kind and/or material (null matches any); the most specific row wins.
create table storage_price (
    price_id        serial primary key,
    kind            text,
    material        text,
    monthly_cents   bigint not null check (monthly_cents >= 0),
    unique nulls not distinct (kind, material)
);

insert into storage_price (kind, material, monthly_cents) values
    (null, null, 1500),
    (null, 'fur', 6000),
    (null, 'leather', 4000),
    (null, 'suede', 4000),
    (null, 'cashmere', 2500),
    (null, 'silk', 2000),
    (null, 'down', 2500),
    ('coat', null, 2500),
    ('down_jacket', null, 2500),
    ('suit', null, 2000),
    ('bedding', null, 3000);

create table storage_order (
    customer_id        uuid not null references customer (customer_id),
    order_id           uuid not null,
    receipt_no         text not null,
    status             text not null check (status in ('accepted', 'in_storage', 'return_requested', 'returned')),
    term_months        integer not null check (term_months between 1 and 24),
    insurance_rate_bp  integer not null check (insurance_rate_bp between 0 and 10000),
    planned_return_on  date not null,
    delivery_preference text not null default '',
    notes              text not null default '',
    fee_cents          bigint not null check (fee_cents >= 0),
    premium_cents      bigint not null check (premium_cents >= 0),
    declared_cents     bigint not null check (declared_cents >= 0),
    created_at         timestamptz not null default now(),
    created_by         uuid not null references staff (staff_id),
    delivery_booked_for date,
    primary key (customer_id, order_id),
    constraint storage_order_receipt_key unique (receipt_no)
);
create index storage_order_open_idx on storage_order (planned_return_on) where status <> 'returned';

create table storage_item (
    customer_id     uuid not null,
    order_id        uuid not null,
    garment_id      uuid not null,
    declared_cents  bigint not null check (declared_cents >= 0),
    fee_cents       bigint not null check (fee_cents >= 0),
    premium_cents   bigint not null check (premium_cents >= 0),
    zone_id         text not null references storage_zone (zone_id),
    position        text not null default '',
    released_at     timestamptz,
    primary key (customer_id, order_id, garment_id),
    foreign key (customer_id, order_id) references storage_order (customer_id, order_id),
    foreign key (customer_id, garment_id) references garment (customer_id, garment_id)
);
-- A garment is in at most one open order.
create unique index storage_item_one_open on storage_item (customer_id, garment_id) where released_at is null;
create index storage_item_zone_open on storage_item (zone_id) where released_at is null;

create table storage_event (
    customer_id  uuid not null,
    order_id     uuid not null,
    seq          integer not null,
    status       text not null check (status in ('accepted', 'in_storage', 'return_requested', 'returned')),
    staff_id     uuid not null references staff (staff_id),
    at           timestamptz not null default now(),
    note         text not null default '',
    primary key (customer_id, order_id, seq),
    foreign key (customer_id, order_id) references storage_order (customer_id, order_id)
);

create index garment_special_idx on garment (customer_id) include (size, category, kind) where special_size;

-- Every customer with history, scored against the whole base on day `on_`: recency, frequency and money
-- (quintiles 1-5 each), a value tier from their sum, and a lifecycle stage from recent against long-run spend.
create function customer_value(on_ timestamptz)
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
    with base as (
        select s.customer_id, s.pickups, s.spend_cents, s.first_pickup_at, s.last_pickup_at,
               greatest(extract(epoch from on_ - s.last_pickup_at) / 86400.0, 0) as recency_days,
               greatest(extract(epoch from on_ - s.first_pickup_at) / 86400.0, 30) as tenure_days,
               s.recent_spend * decay_factor(s.last_pickup_at, greatest(on_, s.last_pickup_at), 91) as recent_now,
               s.long_spend * decay_factor(s.last_pickup_at, greatest(on_, s.last_pickup_at), 365) as long_now
          from customer_stats s
         where s.first_pickup_at <= on_
    ), rates as (
        -- A decayed sum of a steady daily rate x over t days is x * tau * (1 - e^(-t/tau)): divide it out.
        select b.*,
               b.pickups * 365.0 / b.tenure_days as pickups_per_year,
               365.0 * b.long_now / (365.0 * (1 - exp(greatest(-700.0, -b.tenure_days / 365.0)))) as yearly_spend_cents,
               365.0 * b.recent_now / (91.0 * (1 - exp(greatest(-700.0, -b.tenure_days / 91.0)))) as recent_yearly_cents,
               case when b.pickups > 1
                    then extract(epoch from b.last_pickup_at - b.first_pickup_at) / 86400.0 / (b.pickups - 1) end
                   as usual_interval_days
          from base b
    ), scored as (
        select x.*,
               ntile(5) over (order by x.recency_days desc) as r,
               ntile(5) over (order by x.pickups_per_year) as f,
               ntile(5) over (order by x.yearly_spend_cents) as m
          from rates x
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
