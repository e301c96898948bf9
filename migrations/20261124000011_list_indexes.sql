-- Calling lists leave out do-not-contact customers and anyone called or visited lately: index both small sets.
-- customer_stats is rewritten on every pickup; room on each page keeps those updates HOT and the table compact.
create index customer_dnc_idx on customer (customer_id) where do_not_contact;
create index interaction_contact_idx on interaction (occurred_at) include (customer_id) where kind in ('call', 'visit');
alter table customer_stats set (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.02);
