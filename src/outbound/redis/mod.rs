//! Redis: the store several instances share, and the counters kept in it (or in this process
//! when Redis is not configured or does not answer).

pub mod counters;
pub mod store;
