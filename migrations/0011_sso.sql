-- Single sign-on with OpenID Connect: the sign-ins under way (state, nonce and PKCE
-- verifier, each single-use and short-lived), what the provider's discovery document and keys
-- said (cached), and the link between an account and the provider's subject.
create table oidc_logins (
    state_hash    text        not null,
    nonce         text        not null,
    code_verifier text        not null,
    created_at    timestamptz not null,
    expires_at    timestamptz not null,
    used_at       timestamptz,
    constraint oidc_logins_pkey primary key (state_hash)
);

create table oidc_providers (
    issuer          text        not null,
    discovery       jsonb       not null,
    fetched_at      timestamptz not null,
    jwks            jsonb,
    jwks_fetched_at timestamptz,
    constraint oidc_providers_pkey primary key (issuer)
);

alter table users
    add column oidc_issuer  text,
    add column oidc_subject text,
    add constraint users_oidc_subject_key unique (oidc_issuer, oidc_subject);
