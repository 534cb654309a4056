//! The scrutin voting server: HTTP plumbing, storage, authentication, mail and audit,
//! independent of the election protocol, which plugs in through [`http::build_router`]'s
//! `extra` routes, [`state::AppState`] and the opaque event lines of [`storage::Storage`].
//!
//! Module map:
//! - [`config`]: the TOML configuration, every key documented;
//! - [`storage`]: the `Storage` trait (board + private store) and its SQLite backend;
//! - [`board`]: serialized, durable appends to an election's record (the protocol's seam);
//! - [`auth`]: admin passwords (argon2id), bearer sessions, voter one-time codes;
//! - [`mail`]: SMTP or dry-run outbox, with delivery status;
//! - [`private_files`]: the data folder and outbox closed to other users (0700, 0600);
//! - [`mail_text`]: what the mails to voters say, in their language (also used by the CLI);
//! - [`audit`]: append-only log of administrative actions;
//! - [`ratelimit`]: token buckets per key;
//! - [`voters`]: voter-list (CSV) parsing;
//! - [`voter_mail`]: the one-time login code and ballot confirmation mails;
//! - [`http`]: errors, extractors, middleware, router assembly, listener;
//! - [`routes`]: the protocol-independent API routes;
//! - [`roll`]: the voter roll for officials: list, search, edit, voted and mail status, CSV export;
//! - [`protocol`]: the election protocol over HTTP (lifecycle, roles, ballots, public board);
//! - [`state`]: the shared application state;
//! - [`web`]: the pages, scripts, translations and booth bundle, embedded from `web/`.

pub mod audit;
pub mod auth;
pub mod board;
pub mod config;
pub mod csv;
pub mod group_write;
pub mod http;
pub mod mail;
pub mod mail_text;
pub mod private_files;
pub mod protocol;
pub mod ratelimit;
pub mod roll;
pub mod routes;
pub mod state;
pub mod storage;
pub mod trustee_mail;
pub mod voter_mail;
pub mod voters;
pub mod web;

pub use config::ServerConfig;
pub use http::{ApiError, RunningServer, ServeError, build_router, serve, start};
pub use state::AppState;
pub use storage::{SharedStorage, Storage};
