//! Command-line choices (activation, init, optimizer) as enums with one spelling each.

/// Gives a fieldless enum `NAMES`, `name()`, `Display` and a case-insensitive `FromStr` whose
/// error lists the valid spellings.
macro_rules! named_choices {
    ($ty:ty, $what:literal, $($variant:ident => $name:literal),+) => {
        impl $ty {
            /// Every choice, as spelled on the command line.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name of this choice, as spelled on the command line.
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::Error;

            fn from_str(s: &str) -> $crate::Result<Self> {
                match s.to_ascii_lowercase().as_str() {
                    $($name => Ok(Self::$variant),)+
                    _ => Err($crate::Error::invalid(
                        $what,
                        format!("unknown value `{s}`, expected one of: {}", Self::NAMES.join(", ")),
                    )),
                }
            }
        }
    };
}
