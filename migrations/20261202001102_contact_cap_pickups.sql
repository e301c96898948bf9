-- The reminder list's contact cap counts a recent pickup as a contact: this index finds the pickups of the last
-- days without reading every pickup.
create index pickup_time_idx on pickup (collected_at) include (customer_id);
