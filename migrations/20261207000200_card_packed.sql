-- The kept door card is stored deflated by the service (`profile::packed`): a scan from a browser, which always
-- takes gzip, is answered with those bytes wrapped in a gzip member, so neither PostgreSQL (lz4) nor the service
-- (gzip) compresses or inflates a card on the request path, and a fifth of the bytes cross each connection.
-- Every kept card is emptied by the change; the service's filler builds them again after its start.
alter table customer_card alter column body type bytea using null;
-- Deflated bytes do not compress again; kept in the row (a scan reads one heap tuple), as before.
alter table customer_card alter column body set storage main;
