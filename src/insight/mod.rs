//! Pure estimates behind the call lists: is the customer still a customer, is the garment still worn, will they send unprompted.

pub mod bgnbd;
mod special;
pub mod survival;
pub mod timing;
