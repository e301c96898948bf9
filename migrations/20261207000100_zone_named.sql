-- Whether a storage zone's name is a manager's own. The shipped zones keep their English default names here and
-- are shown by their catalogue name (`zone.<zone_id>`) in the reader's language until a manager renames them.
alter table storage_zone add column named boolean not null default true;
update storage_zone set named = false
 where (zone_id, name) in (('cold-vault', 'Cold vault (fur, leather, suede)'),
                           ('rack-a', 'Hanging rack A (coats, suits, down)'),
                           ('bin-a', 'Folded bins A (knitwear, scarves, bedding)'));
