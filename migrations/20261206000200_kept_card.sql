-- The door card kept as the JSON a scan answers with, so a scan of an unchanged customer is one index lookup
-- and no serialization. `version` is the id of the last transaction that changed anything the card shows; any
-- such change empties `body` in the same transaction. A card built from a snapshot is stored only while the
-- version it read is still the row's (or the row is still missing, version 0), so a card built before a
-- change committed is never kept after it.
create table customer_card (
    customer_id uuid primary key references customer on delete cascade,
    version     bigint not null default 0,
    changed_at  timestamptz not null default now(),
    body        text
);
-- Compressed in the row (about 2.5 KB for a 10 KB card) rather than out of line: a scan reads one heap tuple,
-- and emptying a card on a write deletes no TOAST chunks.
alter table customer_card alter column body set compression lz4, alter column body set storage main;

-- The list-change trigger (migration 20261203000100) already fires on every table the card shows (customer,
-- garment, pickup, pickup_line, interaction); on those it now also empties the changed customers' cards. Bulk
-- writers that log their customers themselves empty the cards of customers that existed before them.
create or replace function note_list_change() returns trigger language plpgsql as $$
begin
    if current_setting('doorstep.list_change_by_writer', true) = 'on' then
        return null;
    end if;
    if tg_table_name not in ('customer', 'garment', 'pickup', 'pickup_line', 'interaction') then
        if tg_op = 'DELETE' then
            insert into list_change (customer_id) select distinct customer_id from old_rows;
        else
            insert into list_change (customer_id) select distinct customer_id from new_rows;
        end if;
    elsif tg_op = 'DELETE' then
        insert into list_change (customer_id) select distinct customer_id from old_rows;
        -- A customer deleted takes their card with them (the cascade); only survivors' cards are emptied.
        insert into customer_card as k (customer_id, version)
        select distinct o.customer_id, pg_current_xact_id()::text::bigint
          from old_rows o
         where exists (select 1 from customer c where c.customer_id = o.customer_id)
        on conflict (customer_id) do update set version = excluded.version, changed_at = now(), body = null
         where k.version <> excluded.version;
    else
        insert into list_change (customer_id) select distinct customer_id from new_rows;
        insert into customer_card as k (customer_id, version)
        select distinct customer_id, pg_current_xact_id()::text::bigint from new_rows
        on conflict (customer_id) do update set version = excluded.version, changed_at = now(), body = null
         where k.version <> excluded.version;
    end if;
    return null;
end $$;

-- The cards writes emptied, for the background filler to build again once their customer has been left alone a
-- while (a visit's or an edit's writes come in bursts).
create index customer_card_empty on customer_card (changed_at) where body is null;
