//! Kinema's integration tests, linked into one binary (one module per area) so the whole app is
//! linked once instead of once per area. `helpers` holds the harness every area shares.

mod helpers;

mod account_controls;
mod accounts;
mod assets;
mod audit;
mod audit_tokens;
mod backup;
mod binary;
mod bounds;
mod budgets;
mod callbacks;
mod elements;
mod engine_load;
mod evolink;
mod failover;
mod gateway;
mod gateway_flow;
mod hostile_uploads;
mod keep_alive;
mod leases;
mod ledger;
mod ledger_property;
mod media;
mod metrics;
mod motion;
mod object_storage;
mod oidc;
mod oidc_joining;
mod password_switch;
mod proxy;
mod restart;
mod route_errors;
mod sandbox;
mod security;
mod sessions;
mod share_links;
mod shutdown;
mod sign_in;
mod storage_hygiene;
mod store;
mod uploads;
mod upstream;
