-- The pickup app: browser sessions carry a CSRF token, and the cleaning price list pre-fills a visit's prices.

-- Writes made with a session cookie must echo this token in `X-CSRF-Token` (bearer clients need not).
alter table staff_session add column csrf_token text not null default replace(gen_random_uuid()::text, '-', '');

-- What a cleaning costs by service, and by garment kind and/or material (null matches any); the most specific
-- row wins, and between a kind-only and a material-only row the dearer.
create table cleaning_price (
    price_id     integer generated always as identity primary key,
    service      text not null check (service in ('dry_clean', 'wash', 'press', 'wash_and_press', 'repair', 'leather_care')),
    kind         text,
    material     text,
    price_cents  bigint not null check (price_cents between 0 and 100000000),
    updated_at   timestamptz not null default now(),
    updated_by   uuid references staff (staff_id)
);
create unique index cleaning_price_key on cleaning_price (service, coalesce(kind, ''), coalesce(material, ''));

-- A Shanghai-like starting list; managers change it through the API.
insert into cleaning_price (service, kind, material, price_cents) values
    ('dry_clean', null, null, 3500),
    ('wash', null, null, 1500),
    ('press', null, null, 1000),
    ('wash_and_press', null, null, 2000),
    ('repair', null, null, 3000),
    ('leather_care', null, null, 25000),
    ('dry_clean', 'coat', null, 6000),
    ('dry_clean', 'down_jacket', null, 5000),
    ('dry_clean', 'suit', null, 6000),
    ('dry_clean', 'dress', null, 4500),
    ('dry_clean', 'bedding', null, 8000),
    ('dry_clean', 'curtain', null, 7000),
    ('dry_clean', null, 'cashmere', 6500),
    ('dry_clean', null, 'silk', 5000),
    ('dry_clean', null, 'fur', 30000),
    ('wash', 'shirt', null, 1200),
    ('wash', 't_shirt', null, 1000),
    ('wash', 'bedding', null, 4000),
    ('wash_and_press', 'shirt', null, 1800),
    ('leather_care', null, 'suede', 28000),
    ('leather_care', null, 'fur', 38000);
