-- Whether a window kind's name is a manager's own. The shipped kinds (never written by staff) keep their English
-- default names here and are shown by their catalogue name in the reader's language until a manager renames them.
alter table season_window_kind add column named boolean not null default true;
update season_window_kind set named = false where updated_by is null;
