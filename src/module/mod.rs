//! This project's Dagger module: `publish`, `build`, `container-version`, `container-list`.
