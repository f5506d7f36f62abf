//! [`string_newtype!`](crate::string_newtype): the impls every validated string newtype of the
//! workspace shares.

/// The impls of a validated string newtype `struct Name(String)`: `as_str`, `Display`,
/// `AsRef<str>`, and serde as the string, deserialized through the type's `FromStr` (so a
/// deserialized value has passed the same rules as a parsed one). The type writes its own
/// `FromStr` (its parser). `string_newtype!(@serde Name)` gives the serde impls alone, for a
/// type whose `Display` is its own.
///
/// ```
/// use std::str::FromStr;
///
/// /// A lowercase word.
/// #[derive(Debug, Clone, PartialEq, Eq)]
/// pub struct Word(String);
/// dagger_engine::string_newtype!(Word);
///
/// impl FromStr for Word {
///     type Err = String;
///     fn from_str(s: &str) -> Result<Self, String> {
///         if !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase()) {
///             Ok(Word(s.to_owned()))
///         } else {
///             Err(format!("{s:?} is not a lowercase word"))
///         }
///     }
/// }
///
/// let w: Word = "abc".parse().unwrap();
/// assert_eq!((w.as_str(), w.to_string()), ("abc", "abc".to_string()));
/// assert_eq!(serde_json::to_string(&w).unwrap(), "\"abc\"");
/// assert!(serde_json::from_str::<Word>("\"ABC\"").is_err());
/// ```
#[macro_export]
macro_rules! string_newtype {
    ($ty:ident) => {
        impl $ty {
            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl ::core::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl ::core::convert::AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        $crate::string_newtype!(@serde $ty);
    };
    (@serde $ty:ident) => {
        impl $crate::__private::serde::Serialize for $ty {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let s: ::std::string::String =
                    $crate::__private::serde::Deserialize::deserialize(deserializer)?;
                s.parse()
                    .map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}
