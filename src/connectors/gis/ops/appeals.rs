//! Appeals (обращения): `exportAppeal` pulls what residents filed in ГИС ЖКХ,
//! `importAnswer` posts the УО's answer.

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::connectors::gis::envelope::{request_element, Request};
use crate::connectors::gis::services::Service;
use crate::connectors::gis::xml::Node;
use crate::connectors::gis::GisError;

/// The appeals schema leaves `base:version` open; this is the package's schema version.
const VERSION: &str = "13.1.10.1";

/// Appeals created between `from` and `to` (inclusive), for these houses (none: all).
pub fn export_appeals(from: Date, to: Date, fias_house_guids: &[String]) -> Request {
    let body = request_element(Service::Appeals, "exportAppealRequest", VERSION, &[])
        .leaf("ap:StartDate", from.to_string())
        .leaf("ap:EndDate", to.to_string())
        .children(
            fias_house_guids
                .iter()
                .map(|g| crate::connectors::gis::xml::El::new("ap:FIASHouseGuid").text(g.clone())),
        );
    Request::signed("exportAppeal", Service::Appeals, body)
}

/// These appeals again, by AppealGUID (1 to 1000): what changed in ГИС ЖКХ since the pull.
pub fn export_appeals_by_guid(appeal_guids: &[String]) -> Result<Request, GisError> {
    if appeal_guids.is_empty() || appeal_guids.len() > 1000 {
        return Err(GisError::Config(
            "appeals are asked for by 1 to 1000 GUIDs".into(),
        ));
    }
    let body = request_element(Service::Appeals, "exportAppealRequest", VERSION, &[]).children(
        appeal_guids
            .iter()
            .map(|g| crate::connectors::gis::xml::El::new("ap:AppealGUID").text(g.clone())),
    );
    Ok(Request::signed("exportAppeal", Service::Appeals, body))
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppealData {
    pub guid: String,
    pub number: Option<String>,
    pub created_on: Option<String>,
    pub fias_house_guid: Option<String>,
    pub text: String,
    pub topic_code: Option<String>,
    /// AppealTopic's name, or AnotherTopic's text.
    #[serde(default)]
    pub topic: Option<String>,
    /// ApplicantInfo/ApartmentNumber (no name, phone or e-mail is read).
    #[serde(default)]
    pub apartment_number: Option<String>,
    /// AppealWithdrawn is present or AppealStatus is `Withdrawn`.
    #[serde(default)]
    pub withdrawn: bool,
}

/// The `ExportAppealResult` elements of a `getStateResult`.
pub fn appeals(result: &Node) -> Vec<AppealData> {
    result
        .all("ExportAppealResult")
        .chain(result.all("Appeal"))
        .filter_map(|a| {
            Some(AppealData {
                guid: a.text_of("AppealGUID")?,
                number: a.text_of("AppealNumber"),
                created_on: a.text_of("AppealCreateDate"),
                fias_house_guid: a.text_of("FIASHouseGuid"),
                text: a.text_of("AppealText").unwrap_or_default(),
                topic_code: a.path(&["AppealTopic", "Code"]),
                topic: a
                    .path(&["AppealTopic", "Name"])
                    .or_else(|| a.text_of("AnotherTopic")),
                apartment_number: a.path(&["ApplicantInfo", "ApartmentNumber"]),
                withdrawn: a.child("AppealWithdrawn").is_some()
                    || a.text_of("AppealStatus").as_deref() == Some("Withdrawn"),
            })
        })
        .collect()
}

/// What the УО does with an appeal (`AppealAction`), besides answering it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppealStep {
    /// Performer: the appeal is taken into work by the answerer.
    Performer,
    /// Executed.
    Executed,
    /// RollOverAppeal: the execution date moves, with a comment.
    RollOver { until: Date, comment: String },
    /// AnswerIsNotRequired with the cause.
    NotRequired { cause: String },
}

/// One `AppealAction` to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub transport_guid: Uuid,
    pub appeal_guid: String,
    pub answerer_guid: String,
    pub step: AppealStep,
}

/// One answer to send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Ours, for the action; the answer itself gets `transport_guid` + 1 (see [`answer_guid`]).
    pub transport_guid: Uuid,
    pub appeal_guid: String,
    /// The УО employee registered as answerer in ГИС ЖКХ.
    pub answerer_guid: String,
    pub text: String,
    /// SendAnswer: the answer is final and goes to the applicant; otherwise it is saved.
    #[serde(default = "yes")]
    pub send: bool,
}

fn yes() -> bool {
    true
}

/// The TransportGUID of the answer element inside an action: derived, so results map back.
pub fn answer_guid(action: Uuid) -> Uuid {
    Uuid::new_v5(&action, b"answer")
}

/// `importAnswerRequest`: loads (and sends) each answer, then the appeal actions.
pub fn import_answers(answers: &[Answer], actions: &[Action]) -> Result<Request, GisError> {
    use crate::connectors::gis::xml::El;
    let count = answers.len() + actions.len();
    if count == 0 || answers.len() > 1000 || actions.len() > 1000 {
        return Err(GisError::Config(
            "a message carries 1 to 1000 answers and 1 to 1000 actions".into(),
        ));
    }
    let answer_elements = answers.iter().map(|a| {
        El::new("ap:AnswerAction")
            .leaf("base:TransportGUID", a.transport_guid.to_string())
            .leaf("ap:AppealGUID", a.appeal_guid.clone())
            .child(
                El::new("ap:Answer")
                    .leaf(
                        "base:TransportGUID",
                        answer_guid(a.transport_guid).to_string(),
                    )
                    .leaf("ap:AnswererGUID", a.answerer_guid.clone())
                    .child(El::new("ap:LoadAnswer").leaf("ap:AnswerText", limit(&a.text, 10_000)))
                    .opt(a.send.then(|| El::new("ap:SendAnswer").text("true"))),
            )
    });
    let action_elements = actions.iter().map(|a| {
        let step = match &a.step {
            AppealStep::Performer => {
                El::new("ap:Performer").leaf("ap:AnswererGUID", a.answerer_guid.clone())
            }
            AppealStep::Executed => {
                El::new("ap:Executed").leaf("ap:AnswererGUID", a.answerer_guid.clone())
            }
            AppealStep::RollOver { until, comment } => El::new("ap:RollOverAppeal")
                .leaf("ap:ExecutionDate", until.to_string())
                .leaf("ap:Comment", limit(comment, 1000))
                .leaf("ap:AnswererGUID", a.answerer_guid.clone()),
            AppealStep::NotRequired { cause } => El::new("ap:AnswerIsNotRequired")
                .leaf("ap:Cause", cause.clone())
                .leaf("ap:AnswererGUID", a.answerer_guid.clone()),
        };
        El::new("ap:AppealAction")
            .leaf("base:TransportGUID", a.transport_guid.to_string())
            .leaf("ap:AppealGUID", a.appeal_guid.clone())
            .child(step)
    });
    let body = request_element(Service::Appeals, "importAnswerRequest", VERSION, &[])
        .children(answer_elements)
        .children(action_elements);
    Ok(Request::signed("importAnswer", Service::Appeals, body))
}

/// At most `chars` characters of `text`.
fn limit(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}
