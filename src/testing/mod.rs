//! A mock Dagger engine that behaves like the real one, for tests (feature `testing`).
