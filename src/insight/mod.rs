//! Pure estimates behind the call lists: still a customer? garment still worn? will they send unprompted?

pub mod activity;
pub mod bgnbd;
mod special;
pub mod survival;
pub mod timing;
