//! Limit/offset paging shared by every list endpoint.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// Paging as the client asks for it (`?limit=&offset=`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct PageParams {
    pub(crate) limit: Option<i64>,
    pub(crate) offset: Option<i64>,
}

/// The largest offset a page may start at: far beyond any list, and far from integer overflow.
pub const MAX_OFFSET: i64 = 1_000_000_000;

/// Checked paging: 1–100 items (default 20) from a non-negative offset.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub(crate) limit: i64,
    pub(crate) offset: i64,
}

impl PageParams {
    /// Checks the paging (limit 1-100, default 20; offset not negative).
    pub fn check(&self) -> AppResult<PageRequest> {
        let limit = self.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                "limit must be between 1 and 100",
            ));
        }
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(AppError::invalid("offset", "offset cannot be negative"));
        }
        if offset > MAX_OFFSET {
            return Err(AppError::invalid(
                "offset",
                "offset must be at most 1000000000: page with next_offset",
            ));
        }
        Ok(PageRequest { limit, offset })
    }
}

impl PageRequest {
    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Builds the page from `fetch()` rows.
    pub fn page<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        Page {
            items: rows,
            limit: self.limit,
            offset: self.offset,
            next_offset: more.then_some(self.offset + self.limit),
        }
    }
}

/// One page of a list, with the offset of the next page if there is one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) limit: i64,
    pub(crate) offset: i64,
    pub(crate) next_offset: Option<i64>,
}
