-- Storage upsell reads only the garments that could be stored (winter class or a delicate material), by last
-- cleaning: a partial index holds just those, about a third of the wardrobe, so the list no longer scans and
-- filters every garment cleaned in the window. It replaces garment_cleaned_idx, which only the upsell used.
-- The predicate must stay the one `storage_upsell::CANDIDATE` writes, or the planner cannot use the index.
create index garment_upsell_idx on garment (last_cleaned_at) include (customer_id, garment_id, kind, material)
    where season_class = 'winter' or material in ('fur', 'leather', 'suede', 'down', 'cashmere', 'silk');
drop index garment_cleaned_idx;
