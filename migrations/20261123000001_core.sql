-- Core schema: staff and sessions, customers and their door labels, garments, pickups, interactions,
-- idempotency records. Customer-owned tables carry customer_id first in every primary key so they can be
-- distributed by customer_id (Citus) without changing keys; see README "Architecture".

create extension if not exists pg_trgm;

create table staff (
    staff_id      uuid primary key,
    username      text not null,
    display_name  text not null,
    role          text not null check (role in ('pickup', 'dispatcher', 'manager', 'admin')),
    password_hash text not null,
    active        boolean not null default true,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint staff_username_key unique (username)
);

create table staff_session (
    token_hash   bytea primary key,
    staff_id     uuid not null references staff (staff_id),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    revoked_at   timestamptz
);
create index staff_session_staff_idx on staff_session (staff_id);

create table customer (
    customer_id          uuid primary key,
    name                 text not null check (length(btrim(name)) > 0),
    phone                text,
    address              text,
    notes                text not null default '',
    label_consent_at     timestamptz,
    label_consent_method text,
    do_not_contact       boolean not null default false,
    do_not_contact_at    timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    check (do_not_contact = (do_not_contact_at is not null)),
    check ((label_consent_at is null) = (label_consent_method is null))
);
create index customer_name_trgm on customer using gin (lower(name) gin_trgm_ops);
create index customer_address_trgm on customer using gin (lower(address) gin_trgm_ops);
create index customer_phone_digits on customer (regexp_replace(phone, '[^0-9]', '', 'g') text_pattern_ops);

create table door_label (
    customer_id    uuid not null references customer (customer_id),
    door_label_id  uuid not null,
    code           text not null,
    issued_at      timestamptz not null default now(),
    issued_by      uuid references staff (staff_id),
    revoked_at     timestamptz,
    revoked_reason text,
    primary key (customer_id, door_label_id),
    constraint door_label_code_key unique (code)
);
-- At most one active label per customer.
create unique index door_label_one_active on door_label (customer_id) where revoked_at is null;

create table garment (
    customer_id  uuid not null references customer (customer_id),
    garment_id   uuid not null,
    category     text not null check (category in ('men', 'women', 'children')),
    kind         text not null,
    season_class text not null check (season_class in ('winter', 'summer', 'spring_autumn', 'all_season')),
    brand        text,
    cut          text,
    size         text,
    special_size boolean not null default false,
    material     text,
    colour       text,
    tag_code     text,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    primary key (customer_id, garment_id),
    constraint garment_tag_code_key unique (tag_code)
);
create index garment_garment_id_idx on garment (garment_id);

create table pickup (
    customer_id  uuid not null references customer (customer_id),
    pickup_id    uuid not null,
    staff_id     uuid not null references staff (staff_id),
    door_code    text,
    collected_at timestamptz not null,
    received_at  timestamptz not null default now(),
    notes        text not null default '',
    primary key (customer_id, pickup_id)
);
create index pickup_customer_time_idx on pickup (customer_id, collected_at desc);

create table pickup_line (
    customer_id     uuid not null,
    pickup_id       uuid not null,
    line_no         integer not null check (line_no >= 1),
    garment_id      uuid not null,
    service         text not null check (service in ('dry_clean', 'wash', 'press', 'wash_and_press', 'repair', 'leather_care')),
    price_cents     bigint not null check (price_cents >= 0),
    condition_notes text not null default '',
    primary key (customer_id, pickup_id, line_no),
    foreign key (customer_id, pickup_id) references pickup (customer_id, pickup_id),
    foreign key (customer_id, garment_id) references garment (customer_id, garment_id)
);
create index pickup_line_garment_idx on pickup_line (customer_id, garment_id);

create table interaction (
    customer_id    uuid not null references customer (customer_id),
    interaction_id uuid not null,
    staff_id       uuid references staff (staff_id),
    kind           text not null check (kind in ('call', 'visit', 'complaint', 'note')),
    channel        text not null check (channel in ('phone', 'door', 'sms', 'email', 'in_person', 'app', 'other')),
    body           text not null,
    occurred_at    timestamptz not null,
    created_at     timestamptz not null default now(),
    resolved_at    timestamptz,
    resolved_by    uuid references staff (staff_id),
    resolution     text,
    primary key (customer_id, interaction_id),
    check (resolved_at is null or kind = 'complaint')
);
create index interaction_customer_time_idx on interaction (customer_id, occurred_at desc);
create index interaction_open_complaint_idx on interaction (customer_id) where kind = 'complaint' and resolved_at is null;

-- A retried write (same caller, same key) answers the stored response instead of recording again.
create table idempotency_key (
    staff_id        uuid not null references staff (staff_id),
    idempotency_key text not null,
    request_hash    bytea not null,
    response_status smallint not null,
    response_body   jsonb not null,
    created_at      timestamptz not null default now(),
    primary key (staff_id, idempotency_key)
);
