//! `/dev/`: the sandbox's index page. Mounted in sandbox mode only.

use rocket::get;
use rocket::response::content::RawHtml;

#[get("/dev")]
pub fn index() -> RawHtml<&'static str> {
    RawHtml(include_str!("../../assets/dev/index.html"))
}
