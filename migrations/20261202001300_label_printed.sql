-- When a door label went onto a printed sheet, so the office can print every label not yet printed.
alter table door_label add column printed_at timestamptz;
create index door_label_unprinted on door_label (customer_id) where revoked_at is null and printed_at is null;
