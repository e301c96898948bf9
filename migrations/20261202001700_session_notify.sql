-- The service remembers live sessions for a few seconds (auth::cache) and forgets them all on this channel:
-- every change to a session (a sign-out, a revocation, the purge) or an account (role, deactivation, password).
create function notify_session_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('doorstep_sessions', '');
    return null;
end $$;

create trigger staff_session_changed after update or delete on staff_session
    for each statement execute function notify_session_change();
create trigger staff_changed after update or delete on staff
    for each statement execute function notify_session_change();
