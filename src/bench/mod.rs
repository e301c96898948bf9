//! Benchmark commands of the binary (`doorstep bench ...`, including the database fault test); scan.lua drives
//! wrk for the HTTP scan figure.

pub mod decode;
pub mod fault;
pub mod lists;
pub mod load;
