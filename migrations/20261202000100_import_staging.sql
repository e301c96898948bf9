-- Bulk import: the customer spend rollup of many pickups in one statement. `spend_fold` folds pickups in the
-- order they are recorded with decayed_add, exactly as one insert_lines call per pickup would, so a bulk import
-- leaves the same recent and long-run sums to the last bit. The first row folded may be the customer's
-- existing rollup (its two sums at last_pickup_at); every later row is one pickup (its total twice, its time).
create type spend_fold_state as (recent_sum double precision, long_sum double precision, at_ timestamptz);

create function spend_fold_step(s spend_fold_state, recent double precision, long double precision,
                                at_ timestamptz)
returns spend_fold_state language plpgsql immutable parallel safe as $$
begin
    if s is null then
        return row(recent, long, at_)::spend_fold_state;
    end if;
    return row(decayed_add(s.recent_sum, s.at_, recent, at_, 91),
               decayed_add(s.long_sum, s.at_, long, at_, 365),
               greatest(s.at_, at_))::spend_fold_state;
end
$$;

create aggregate spend_fold(double precision, double precision, timestamptz) (
    sfunc = spend_fold_step,
    stype = spend_fold_state
);
