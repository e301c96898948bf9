//! Forecasts of weekly garment intake: the pure models and their backtest.

pub mod allocation;
pub mod api;
pub mod backtest;
pub mod db;
pub mod model;
pub mod series;
pub mod single_flight;
