//! Forecasts of weekly garment intake: the pure models and their backtest.

pub mod api;
pub mod backtest;
pub mod model;
