//! The typed vocabulary as TEXT columns on both databases: written with `as_str`, read with
//! `parse`, so an unknown word in a row is an error at the boundary, not a silent fallback.

use sqlx::{encode::IsNull, error::BoxDynError, Database, Decode, Encode, Type};

use crate::rules::{
    audit::AuditAction,
    element_inputs::ReferenceType,
    motion_inputs::{ImageFormat, VideoFormat},
    vocab::{EntryKind, Orientation, Quality, TaskKind, TaskState, TokenScope, UploadKind},
};

/// Implements `Type`, `Encode` and `Decode` for text enums by delegating to `str`.
macro_rules! text_columns {
    ($($name:ty),+ $(,)?) => {$(
        impl<DB: Database> Type<DB> for $name
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $name
        where
            &'q str: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                <&str as Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $name
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<'r, DB>>::decode(value)?;
                <$name>::parse(text).ok_or_else(|| {
                    format!("'{text}' is not a known {}", stringify!($name)).into()
                })
            }
        }
    )+};
}

text_columns!(
    TaskState,
    TaskKind,
    Quality,
    Orientation,
    UploadKind,
    ReferenceType,
    ImageFormat,
    VideoFormat,
    EntryKind,
    TokenScope,
    AuditAction,
);
