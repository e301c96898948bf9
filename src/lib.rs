//! Doorstep: a field-service backend for door-to-door laundry pickup.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod auth;
pub mod bench;
pub mod calendar;
pub mod campaigns;
pub mod cli;
pub mod config;
pub mod customers;
pub mod db;
pub mod decode;
pub mod demo;
pub mod domain;
pub mod error;
pub mod export;
pub mod extract;
pub mod forecasts;
pub mod garments;
pub mod idempotency;
pub mod import;
pub mod interactions;
pub mod labels;
pub mod lists;
pub mod pagination;
pub mod pickups;
pub mod profile;
pub mod scans;
pub mod seed;
pub mod staff;
pub mod state;
pub mod storage;
