//! The scrutin voting server.
