//! Benchmark commands of the binary (`doorstep bench ...`); scan.lua drives wrk for the HTTP scan figure.

pub mod decode;
pub mod lists;
