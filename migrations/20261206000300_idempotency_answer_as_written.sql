-- A stored answer is replayed as it was first sent, byte for byte: kept as `json` (the text as written, checked
-- but not rebuilt as jsonb, which reorders keys and costs a parse on every write) and compressed with lz4.
alter table idempotency_key
    alter column response_body type json using response_body::json,
    alter column response_body set compression lz4;
