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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppealData {
    pub guid: String,
    pub number: Option<String>,
    pub created_on: Option<String>,
    pub fias_house_guid: Option<String>,
    pub text: String,
    pub topic_code: Option<String>,
}

pub fn appeals(result: &Node) -> Vec<AppealData> {
    result
        .all("ExportAppealResult")
        .filter_map(|a| {
            Some(AppealData {
                guid: a.text_of("AppealGUID")?,
                number: a.text_of("AppealNumber"),
                created_on: a.text_of("AppealCreateDate"),
                fias_house_guid: a.text_of("FIASHouseGuid"),
                text: a.text_of("AppealText").unwrap_or_default(),
                topic_code: a.path(&["AppealTopic", "Code"]),
            })
        })
        .collect()
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
}

/// The TransportGUID of the answer element inside an action: derived, so results map back.
pub fn answer_guid(action: Uuid) -> Uuid {
    Uuid::new_v5(&action, b"answer")
}

/// `importAnswerRequest`: loads and sends each answer.
pub fn import_answers(answers: &[Answer]) -> Result<Request, GisError> {
    use crate::connectors::gis::xml::El;
    if answers.is_empty() || answers.len() > 1000 {
        return Err(GisError::Config(
            "a message carries 1 to 1000 answers".into(),
        ));
    }
    let actions = answers.iter().map(|a| {
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
                    .child(El::new("ap:LoadAnswer").leaf("ap:AnswerText", a.text.clone()))
                    .leaf("ap:SendAnswer", "true"),
            )
    });
    let body =
        request_element(Service::Appeals, "importAnswerRequest", VERSION, &[]).children(actions);
    Ok(Request::signed("importAnswer", Service::Appeals, body))
}
