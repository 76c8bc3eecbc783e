//! engine helper: driver
