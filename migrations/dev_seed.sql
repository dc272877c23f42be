-- Development seed (dev_seed=true only; never in production): the three accounts the README lists
-- and a small demo catalog. Idempotent. Passwords: admin123, admin123, user123 (argon2id,
-- OWASP parameters m=19456 KiB, t=2, p=1).

insert into users (email, name, password_hash, role) values
    ('admin@example.com', 'Admin', '$argon2id$v=19$m=19456,t=2,p=1$KDxGw96GnvOe9t7lC++Quw$KlnnCnDqbDE9tkH1NXRpFdsySuVXhFuqaoNu/+QBhxQ', 'admin'),
    ('operator@example.com', 'Operator', '$argon2id$v=19$m=19456,t=2,p=1$yEzkG51jwqTgGIxnewJ6AA$9LBAKp4bXNR7rgqiYEvM/uFs8z7XiF1sRgPOZohCBAA', 'operator'),
    ('user@example.com', 'User', '$argon2id$v=19$m=19456,t=2,p=1$C2JCjMxdlFEY1yHdCZf6yg$8hwSEoTKT7xYtsRfYuL34SvQcTNnEKVtGJtxh6gzioA', 'user')
on conflict (email) do nothing;

insert into groups (name, slug, description, display_order) values
    ('Platform', 'platform', 'Customer-facing platform', 1),
    ('Infrastructure', 'infrastructure', 'Shared infrastructure', 2)
on conflict (slug) do nothing;

insert into services (name, slug, description, display_order) values
    ('Website', 'website', 'The public website', 1),
    ('API', 'api', 'The public REST API', 2),
    ('Dashboard', 'dashboard', 'The customer dashboard', 3),
    ('Database', 'database', 'Primary database cluster', 4)
on conflict (slug) do nothing;

insert into service_groups (service_id, group_id)
select s.id, g.id
from (values ('website', 'platform'), ('api', 'platform'), ('dashboard', 'platform'), ('database', 'infrastructure'))
    as m (service_slug, group_slug)
join services s on s.slug = m.service_slug
join groups g on g.slug = m.group_slug
on conflict do nothing;

insert into service_status_log (service_id, from_status, to_status, source, reason, effective_status)
select s.id, null, s.status, 'manual', 'created by the development seed', s.status
from services s
where not exists (select 1 from service_status_log l where l.service_id = s.id);
