//! The typed vocabulary of tasks: each word has one type with one `as_str` and one `parse`, so a
//! string is read once at the boundary (a form, a URL, a database row) and never compared again.

/// A word of a closed set, as forms and URLs carry it.
pub trait Word: Copy + PartialEq + Send + Sync + 'static {
    /// The word as stored, sent and shown in URLs.
    fn word(self) -> &'static str;
}

/// Declares a closed set of words: the enum, its text (also its serde name), `ALL`, `as_str`,
/// `parse` and `Display`.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word as stored, sent and shown in URLs.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value `text` names exactly, if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::rules::vocab::Word for $name {
            fn word(self) -> &'static str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// Where a task is in its life. `Completed` and `Failed` are final.
    pub enum TaskState {
        /// Waiting for a worker to publish its inputs and create it upstream.
        Queued = "queued",
        /// The create call is being sent; it may have reached the upstream.
        Submitting = "submitting",
        /// The upstream has it; the tracker polls it.
        Running = "running",
        /// The upstream finished; the result is being copied into Kinema's storage.
        Archiving = "archiving",
        Completed = "completed",
        Failed = "failed",
    }
}

impl TaskState {
    /// The states the engine still works on.
    pub const ACTIVE: [TaskState; 4] = [
        TaskState::Queued,
        TaskState::Submitting,
        TaskState::Running,
        TaskState::Archiving,
    ];

    /// True for `Completed` and `Failed`.
    pub fn is_final(self) -> bool {
        matches!(self, TaskState::Completed | TaskState::Failed)
    }

    /// The state in words, for people.
    pub fn label(self) -> &'static str {
        match self {
            TaskState::Queued => "Waiting to start",
            TaskState::Submitting => "Sending to EvoLink",
            TaskState::Running => "Generating",
            TaskState::Archiving => "Saving the result",
            TaskState::Completed => "Completed",
            TaskState::Failed => "Failed",
        }
    }
}

text_enum! {
    /// What a task makes.
    pub enum TaskKind {
        /// A Motion Control video.
        Motion = "motion",
        /// A custom element for the team's library.
        Element = "element",
    }
}

text_enum! {
    /// The history's status filter.
    pub enum StatusFilter {
        /// Not final yet.
        Running = "running",
        Completed = "completed",
        Failed = "failed",
    }
}

impl StatusFilter {
    /// True when a task in `state` passes the filter.
    pub fn admits(self, state: TaskState) -> bool {
        match self {
            StatusFilter::Running => !state.is_final(),
            StatusFilter::Completed => state == TaskState::Completed,
            StatusFilter::Failed => state == TaskState::Failed,
        }
    }
}

text_enum! {
    /// Output quality of a motion-control task.
    pub enum Quality {
        /// 720p (Kling "std"), the default.
        P720 = "720p",
        /// 1080p (Kling "pro").
        P1080 = "1080p",
    }
}

text_enum! {
    /// Which way the character faces, and so how long the output may be.
    pub enum Orientation {
        /// "Match image": output (and reference video) at most 10 s.
        Image = "image",
        /// "Match video": output (and reference video) at most 30 s.
        Video = "video",
    }
}

impl Orientation {
    /// The longest reference video (and output) this orientation allows, in seconds.
    pub fn max_seconds(self) -> u32 {
        match self {
            Orientation::Image => 10,
            Orientation::Video => 30,
        }
    }

    /// The choice as the studio names it.
    pub fn label(self) -> &'static str {
        match self {
            Orientation::Image => "Match image",
            Orientation::Video => "Match video",
        }
    }

    /// What the choice means: `faces the way the image does; video up to 10 s.`
    pub fn hint(self) -> String {
        let follows = match self {
            Orientation::Image => "image",
            Orientation::Video => "video",
        };
        format!(
            "faces the way the {follows} does; video up to {} s.",
            self.max_seconds()
        )
    }
}

text_enum! {
    /// What an upload holds.
    pub enum UploadKind {
        Image = "image",
        Video = "video",
    }
}

text_enum! {
    /// An element's place in the library, which follows its creation task.
    pub enum ElementStatus {
        Creating = "creating",
        Ready = "ready",
        Failed = "failed",
    }
}

impl ElementStatus {
    /// The status of an element whose creation task is in `state` and which has (or has not)
    /// received EvoLink's element id.
    pub fn of(state: TaskState, has_upstream_id: bool) -> ElementStatus {
        match state {
            TaskState::Completed if has_upstream_id => ElementStatus::Ready,
            TaskState::Failed => ElementStatus::Failed,
            _ => ElementStatus::Creating,
        }
    }
}

text_enum! {
    /// What a personal API token may do. `Full` is the default: every gateway call the
    /// member could make in the studio (never an admin function).
    pub enum TokenScope {
        Full = "full",
        /// Motion-control tasks, file uploads and reads.
        Motion = "motion",
        /// Custom elements, file uploads and reads.
        Elements = "elements",
        /// Reads only: tasks and credits.
        ReadOnly = "read_only",
    }
}

impl TokenScope {
    /// The scope in words, for people.
    pub fn label(self) -> &'static str {
        match self {
            TokenScope::Full => "Full access",
            TokenScope::Motion => "Motion control",
            TokenScope::Elements => "Elements",
            TokenScope::ReadOnly => "Read-only",
        }
    }

    /// True when tokens of this scope may create motion-control tasks.
    pub fn allows_motion(self) -> bool {
        matches!(self, TokenScope::Full | TokenScope::Motion)
    }

    /// True when tokens of this scope may create custom elements.
    pub fn allows_elements(self) -> bool {
        matches!(self, TokenScope::Full | TokenScope::Elements)
    }

    /// True when tokens of this scope may upload files (any scope that may create).
    pub fn allows_uploads(self) -> bool {
        self != TokenScope::ReadOnly
    }
}

text_enum! {
    /// What a ledger entry records.
    pub enum EntryKind {
        /// A task's cost held when it was submitted.
        Reserve = "reserve",
        /// What a finished task did not use, released.
        Settle = "settle",
        /// A failed task's whole reservation, returned.
        Refund = "refund",
        /// An admin's adjustment, with a reason.
        Adjust = "adjust",
    }
}

impl EntryKind {
    /// The entry in words, for people.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Reserve => "Reserved",
            EntryKind::Settle => "Settled",
            EntryKind::Refund => "Refunded",
            EntryKind::Adjust => "Adjusted by an admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back_to_itself_and_nothing_else_parses() {
        for state in TaskState::ALL {
            assert_eq!(TaskState::parse(state.as_str()), Some(*state));
        }
        for kind in TaskKind::ALL {
            assert_eq!(TaskKind::parse(kind.as_str()), Some(*kind));
        }
        for quality in Quality::ALL {
            assert_eq!(Quality::parse(quality.as_str()), Some(*quality));
        }
        for kind in EntryKind::ALL {
            assert_eq!(EntryKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(TaskState::parse("Completed"), None);
        assert_eq!(TaskState::parse("done"), None);
        assert_eq!(Quality::parse("4k"), None);
        assert_eq!(Orientation::parse(""), None);
    }

    #[test]
    fn orientation_hints_name_their_limit() {
        assert_eq!(
            Orientation::Image.hint(),
            "faces the way the image does; video up to 10 s."
        );
        assert_eq!(
            Orientation::Video.hint(),
            "faces the way the video does; video up to 30 s."
        );
    }

    #[test]
    fn serde_uses_the_same_words() {
        assert_eq!(
            serde_json::to_string(&TaskState::Archiving).unwrap(),
            "\"archiving\""
        );
        assert_eq!(
            serde_json::from_str::<Quality>("\"1080p\"").unwrap(),
            Quality::P1080
        );
        assert!(serde_json::from_str::<Orientation>("\"sideways\"").is_err());
    }

    #[test]
    fn active_states_are_exactly_the_ones_that_are_not_final() {
        for state in TaskState::ALL {
            assert_eq!(TaskState::ACTIVE.contains(state), !state.is_final());
        }
    }

    #[test]
    fn filters_and_element_status_follow_the_task_state() {
        assert!(StatusFilter::Running.admits(TaskState::Archiving));
        assert!(!StatusFilter::Running.admits(TaskState::Failed));
        assert!(StatusFilter::Completed.admits(TaskState::Completed));
        assert_eq!(
            ElementStatus::of(TaskState::Completed, true),
            ElementStatus::Ready
        );
        assert_eq!(
            ElementStatus::of(TaskState::Completed, false),
            ElementStatus::Creating
        );
        assert_eq!(
            ElementStatus::of(TaskState::Failed, false),
            ElementStatus::Failed
        );
    }

    /// The word lists of every `IN (...)` in a migration.
    fn lists_in(migration: &str) -> Vec<Vec<String>> {
        migration
            .split("IN (")
            .skip(1)
            .map(|rest| {
                rest[..rest.find(')').expect("closing parenthesis")]
                    .split(',')
                    .map(|word| word.trim().trim_matches('\'').to_string())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn both_databases_check_exactly_the_task_states() {
        let words: Vec<String> = TaskState::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect();
        for migration in [
            include_str!("../../../migrations/postgres/0007_task_state_check.sql"),
            include_str!("../../../migrations/sqlite/0007_task_state_check.sql"),
        ] {
            let lists = lists_in(migration);
            assert!(!lists.is_empty());
            for list in lists {
                assert_eq!(list, words);
            }
        }
    }

    /// Every `.rs` file under `dir`, recursively.
    fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn task_states_are_spelled_only_by_their_type() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["app/src", "server/src"] {
            rust_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 50, "found the sources: {}", files.len());
        let mut offenders = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a readable source");
            let vocabulary = file.ends_with("rules/vocab.rs");
            for state in TaskState::ALL {
                let word = state.as_str();
                // SQL fragments compare against bound values, never spelled states.
                let in_sql = text.contains(&format!("'{word}'"));
                // The two words only a task state uses, spelled outside its type.
                let spelled = matches!(state, TaskState::Submitting | TaskState::Archiving)
                    && !vocabulary
                    && text.contains(&format!("\"{word}\""));
                if in_sql || spelled {
                    offenders.push(format!("{}: {word}", file.display()));
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }
}
