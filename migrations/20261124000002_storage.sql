-- Storage orders: receipt numbers, the settings managers tune, who changed zones and prices, and events that
-- record a booked return delivery as well as status changes.

-- Receipt numbers are `ST<year>-<n>`; a rolled-back order leaves a gap, which a receipt book may have.
create sequence storage_receipt_seq;

-- One row: the defaults a new order takes and the cleaning rule garments must meet.
create table storage_setting (
    singleton           boolean primary key default true check (singleton),
    -- Insurance premium on declared value, in basis points (150 = 1.5 %).
    insurance_rate_bp   integer not null default 150 check (insurance_rate_bp between 0 and 10000),
    -- A garment must have been cleaned within this many days to be stored (null: any past cleaning).
    cleaned_within_days integer default 90 check (cleaned_within_days between 1 and 3650),
    -- The planned return date defaults to the start of the next window of this kind.
    return_window_kind  text not null default 'early_winter' references season_window_kind (window_kind),
    updated_at          timestamptz not null default now(),
    updated_by          uuid references staff (staff_id)
);
insert into storage_setting default values;

alter table storage_zone
    add column updated_at timestamptz,
    add column updated_by uuid references staff (staff_id);

alter table storage_price
    add column updated_at timestamptz,
    add column updated_by uuid references staff (staff_id);

-- An event is a status change or a booked return delivery (which keeps the order's status).
alter table storage_event
    add column action text not null default 'status' check (action in ('status', 'delivery')),
    add column booked_for date,
    add constraint storage_event_delivery_day check ((action = 'delivery') = (booked_for is not null));

create index storage_order_created_idx on storage_order (created_at);
create index storage_order_customer_idx on storage_order (customer_id, created_at desc);
