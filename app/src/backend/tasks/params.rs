//! What a task was asked to do, kept with it as JSON and decoded once when the row is read.

use serde::{Deserialize, Serialize};

use crate::rules::{
    element_inputs::ReferenceType,
    vocab::{Orientation, TaskKind},
};

/// The parameters kept with a motion task (its image, video and quality are on the task row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MotionParamsRecord {
    pub orientation: Orientation,
    pub keep_sound: bool,
    pub prompt: String,
    /// The character element used, if any.
    #[serde(default)]
    pub element: Option<ElementUse>,
}

/// A library element used by a motion task, as it was at submit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementUse {
    /// Kinema's element id.
    pub id: String,
    pub name: String,
    /// EvoLink's element id, exactly as received.
    pub upstream_id: String,
}

/// The parameters kept with an element-creation task (its video or frontal image is on the
/// task row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementParamsRecord {
    pub name: String,
    pub description: String,
    pub reference_type: ReferenceType,
    pub voice_id: Option<String>,
    /// The other-angle images, for images.
    #[serde(default)]
    pub refer_upload_ids: Vec<String>,
}

/// A task's parameters, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskParams {
    Motion(MotionParamsRecord),
    Element(ElementParamsRecord),
}

impl TaskParams {
    /// The kind of task these parameters belong to.
    pub fn kind(&self) -> TaskKind {
        match self {
            TaskParams::Motion(_) => TaskKind::Motion,
            TaskParams::Element(_) => TaskKind::Element,
        }
    }

    /// Reads the stored JSON of a task of `kind`.
    pub fn decode(kind: TaskKind, json: &str) -> Result<TaskParams, serde_json::Error> {
        Ok(match kind {
            TaskKind::Motion => TaskParams::Motion(serde_json::from_str(json)?),
            TaskKind::Element => TaskParams::Element(serde_json::from_str(json)?),
        })
    }

    /// The JSON kept in the task row.
    pub fn encode(&self) -> String {
        let json = match self {
            TaskParams::Motion(params) => serde_json::to_string(params),
            TaskParams::Element(params) => serde_json::to_string(params),
        };
        // Plain structs of strings, booleans and enums always serialise.
        json.unwrap_or_default()
    }

    /// The motion parameters, for a motion task.
    pub fn motion(&self) -> Option<&MotionParamsRecord> {
        match self {
            TaskParams::Motion(params) => Some(params),
            TaskParams::Element(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_json_keeps_its_shape_and_round_trips() {
        let stored = r#"{"orientation":"image","keep_sound":true,"prompt":"wave"}"#;
        let params = TaskParams::decode(TaskKind::Motion, stored).unwrap();
        let TaskParams::Motion(motion) = &params else {
            panic!("a motion task's params")
        };
        assert_eq!(motion.orientation, Orientation::Image);
        assert_eq!(motion.element, None);
        let again = TaskParams::decode(TaskKind::Motion, &params.encode()).unwrap();
        assert_eq!(again, params);

        let stored = r#"{"name":"Mia","description":"d","reference_type":"images","voice_id":null,"refer_upload_ids":["a"]}"#;
        let params = TaskParams::decode(TaskKind::Element, stored).unwrap();
        assert_eq!(params.kind(), TaskKind::Element);
        assert!(params.encode().contains(r#""reference_type":"images""#));
    }

    #[test]
    fn params_of_the_wrong_kind_or_with_unknown_words_are_refused() {
        let motion = r#"{"orientation":"image","keep_sound":true,"prompt":""}"#;
        assert!(TaskParams::decode(TaskKind::Element, motion).is_err());
        let sideways = r#"{"orientation":"sideways","keep_sound":true,"prompt":""}"#;
        assert!(TaskParams::decode(TaskKind::Motion, sideways).is_err());
    }
}
