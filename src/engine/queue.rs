//! engine helper: queue
