-- A scan reads the label's customer and revocation from the code's unique index alone (an index-only scan): at a
-- million customers the label's heap page is rarely in shared buffers, and the card's page already costs a read.
alter table door_label
    drop constraint door_label_code_key,
    add constraint door_label_code_key unique (code) include (customer_id, revoked_at);
