//! blumeops's deployment defaults, in one place: the registry, its robot account, the image
//! namespace, the forge mirror and the vendor label. The generic crates carry none of them.

use dagger_publish::pipeline::ForgeConfig;

/// The registry images are published to (a zot registry).
pub const REGISTRY: &str = "registry.ops.eblu.me";

/// The CI robot account of that registry: may create tags, never overwrite them.
pub const REGISTRY_USERNAME: &str = "zot-ci";

/// The repository namespace: images are `<registry>/blumeops/<container>`.
pub const NAMESPACE: &str = "blumeops";

/// The forge mirror upstream sources are cloned from: `<base>/<name>.git`.
pub const FORGE_BASE: &str = "https://forge.ops.eblu.me/mirrors";

/// `org.opencontainers.image.vendor` of every image.
pub const VENDOR: &str = "blumeops";

/// The forge mirror as a [`ForgeConfig`].
///
/// ```
/// assert_eq!(
///     blumeops::defaults::forge().repository_url("navidrome"),
///     "https://forge.ops.eblu.me/mirrors/navidrome.git"
/// );
/// ```
pub fn forge() -> ForgeConfig {
    ForgeConfig::new(FORGE_BASE).expect("FORGE_BASE is an https:// URL with a host")
}

/// The flake `flake-lock` and `flake-update` work on by default (the `flake-path` default).
pub const FLAKE_PATH: &str = "nixos/ringtail";

/// The inputs `flake-update` leaves alone by default (the `skip-inputs` default): the
/// services' nixpkgs is pinned on purpose and moved by hand.
pub const FLAKE_SKIP_INPUTS: &str = "nixpkgs-services";
