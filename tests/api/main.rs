//! The one integration-test binary: every endpoint against a real, per-test PostgreSQL database.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod helpers;

mod auth;
mod browser;
mod campaigns;
mod contract;
mod customers;
mod decode;
mod figures;
mod fixtures_gen;
mod forecasts;
mod garments;
mod hardening;
mod import;
mod interactions;
mod labels;
mod lists;
mod maintained;
mod pickups;
mod recompute;
mod scale_out;
mod scans;
mod seed;
mod staff;
mod storage;
mod web;
mod world;
