//! Registry addresses, OCI references and tags, and direct registry API calls.
