//! Helpers shared by the guest's integration tests.

pub mod draws;
