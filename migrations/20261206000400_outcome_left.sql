-- A call can learn that the customer no longer uses the company (moved away, another laundry): the outcome
-- `left`, which closes the entry and makes P(active) zero until their next pickup.
alter table campaign_outcome drop constraint campaign_outcome_outcome_check;
alter table campaign_outcome add constraint campaign_outcome_outcome_check
    check (outcome in ('no_answer', 'call_back', 'booked', 'declined', 'never_contact', 'left'));
alter table campaign_entry drop constraint campaign_entry_status_check;
alter table campaign_entry add constraint campaign_entry_status_check
    check (status in ('open', 'no_answer', 'call_back', 'booked', 'declined', 'never_contact', 'left'));
-- P(active) reads who said they left, by customer.
create index campaign_outcome_left_idx on campaign_outcome (customer_id, recorded_at) where outcome = 'left';
