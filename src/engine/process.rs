//! engine helper: process
